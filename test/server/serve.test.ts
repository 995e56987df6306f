import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../src/queue/redis-server.js'
import { signBody } from '../../src/server/verify-signature.js'
import { syntheticDeliveries } from './deliveries.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('uni-wizard serve (child process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'uw-serve-'))
  let child: ChildProcess | undefined
  afterAll(() => {
    // The whole group: tsx, the serve process under it and its redis-server, even after a failure.
    if (child?.pid)
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('serves health and readiness over an embedded AOF/noeviction Redis, and SIGTERM stops both', async () => {
    const port = await freePort()
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      UW_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    }
    for (const name of ['REDIS_URL', 'GITEA_URL', 'GITEA_TOKEN', 'WEBHOOK_SECRET', 'BOT_LOGIN', 'UW_CONFIG'])
      delete env[name]
    child = spawn(join('node_modules', '.bin', 'tsx'), ['src/cli/run-main.ts', 'serve'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))

    const base = `http://127.0.0.1:${port}`
    const ready = await until('serve /ready', async () => {
      const res = await fetch(`${base}/ready`)
      return res.status === 200 ? ((await res.json()) as unknown) : undefined
    })
    expect(ready).toEqual({ ready: true, checks: { redis: 'ok', gitea: 'ok' } })
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' })

    // stdout also carries the sandbox's how-to text for people; the log lines are the JSON ones.
    const started = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; port?: number; pid?: number })
      .find((l) => l.msg === 'embedded redis-server started')
    expect(started?.port).toBeGreaterThan(0)
    // The embedded Redis requires the password kept (0600) in its data directory.
    const passwordFile = join(dataDir, 'redis', 'password')
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600)
    const password = readFileSync(passwordFile, 'utf8').trim()
    const anonymous = new Redis(`redis://127.0.0.1:${started!.port}`, { maxRetriesPerRequest: 0 })
    anonymous.on('error', () => undefined)
    await expect(anonymous.ping()).rejects.toThrow(/NOAUTH/)
    anonymous.disconnect()
    expect(output).not.toContain(password)
    const redis = new Redis(`redis://:${password}@127.0.0.1:${started!.port}`, { maxRetriesPerRequest: 1 })
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes'])
    expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction'])
    expect(await redis.config('GET', 'dir')).toEqual(['dir', join(dataDir, 'redis')])
    redis.disconnect()

    expect(output).toContain('uni-wizard sandbox comment 1 "/run git_status @bezalel"')
    // The sandbox enables the dashboard and prints a one-time link that logs in as the writer.
    const link = /dashboard: +(\S+)/.exec(output)?.[1] ?? ''
    expect(link).toMatch(new RegExp(`^${base}/dashboard/login/once\\?token=[\\w-]+$`))
    const once = await fetch(link, { redirect: 'manual' })
    expect(once.status).toBe(303)
    const session = once.headers.getSetCookie().find((c) => c.startsWith('uw_dashboard='))
    // http on loopback: the cookie is not Secure, so the browser sends it back.
    expect(session).not.toMatch(/Secure/)
    const jobsPage = await fetch(`${base}/dashboard/jobs`, { headers: { cookie: session!.split(';')[0]! } })
    expect(await jobsPage.text()).toContain('wren <span class="role">(viewer)</span>')
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(403) // used up
    const login = await (await fetch(`${base}/dashboard/login`)).text()
    expect(login).toContain('Log in with Gitea')
    // The sandbox bot's token is a secret like GITEA_TOKEN: a tool output holding it is redacted.
    // So is the embedded Redis password.
    const info = JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as {
      giteaUrl: string
      cloneUrl?: string
      users: { bot: { token: string }; writer: { token: string } }
    }
    const botToken = info.users.bot.token
    // The sandbox's houses work in checkouts of demo/sandbox: the writer pushes a branch holding
    // the secrets, and the job checks it out (`checkout=leak`) and reads the file there.
    const clone = join(dataDir, 'leak-clone')
    const git = (...args: string[]) =>
      execFileSync(
        'git',
        ['-c', `http.extraHeader=Authorization: token ${info.users.writer.token}`, ...args],
        {
          cwd: clone,
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: 'w',
            GIT_AUTHOR_EMAIL: 'w@w',
            GIT_COMMITTER_NAME: 'w',
            GIT_COMMITTER_EMAIL: 'w@w',
          },
        },
      )
    execFileSync('git', ['clone', '-q', info.cloneUrl!, clone])
    writeFileSync(join(clone, 'leak.txt'), `${botToken}\n${password}\n`)
    git('add', 'leak.txt')
    git('commit', '-qm', 'leak')
    git('push', '-q', 'origin', 'HEAD:refs/heads/leak')
    const api = `${info.giteaUrl}/api/v1/repos/demo/sandbox/issues/1/comments`
    const auth = { Authorization: `token ${info.users.writer.token}`, 'Content-Type': 'application/json' }
    const asked = await fetch(api, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ body: '/run file_read path=leak.txt checkout=leak @allegro' }),
    })
    expect(asked.status).toBe(201)
    const answer = await until('the file_read result', async () => {
      const comments = (await (await fetch(api, { headers: auth })).json()) as { body: string }[]
      return comments.find((c) => c.body.includes('[redacted]') || c.body.includes(botToken))?.body
    })
    expect(answer).not.toContain(botToken)
    expect(answer).not.toContain(password) // the embedded Redis password is a secret too
    expect(answer).toContain('[redacted]')

    // Sandbox mode: a generated secret, persisted with mode 0600, that the ingress accepts.
    const secretFile = join(dataDir, 'sandbox-webhook-secret')
    expect(statSync(secretFile).mode & 0o777).toBe(0o600)
    const secret = readFileSync(secretFile, 'utf8').trim()
    const d = syntheticDeliveries().find((x) => x.name === 'issue_comment-created-issue.json')!
    const post = (sig: string) =>
      fetch(`${base}/webhooks/gitea`, {
        method: 'POST',
        headers: { ...d.headers, 'X-Gitea-Signature': sig, 'X-Hub-Signature-256': '' },
        body: d.body,
      })
    expect((await post(signBody(d.body, secret))).status).toBe(202)
    expect((await post(signBody(d.body, 'webhook-test-secret'))).status).toBe(401)

    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(alive(started!.pid!)).toBe(false)
    expect(output).toContain('"msg":"stopped"')
    await expect(fetch(`${base}/health`)).rejects.toThrow()
  })
})
