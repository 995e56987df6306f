import { createHash } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logger.js'
import { ProofCommand, runProofCommands } from '../../src/repo-settings/index.js'

const log = createLogger({ level: 'silent' })
const checkout = mkdtempSync(join(tmpdir(), 'uw-proof-'))
afterAll(() => rmSync(checkout, { recursive: true, force: true }))
const cmd = (c: Partial<ProofCommand> & Pick<ProofCommand, 'argv'>): ProofCommand =>
  ProofCommand.parse({ name: 'p', ...c })
const sha = (t: string) => `sha256:${createHash('sha256').update(t).digest('hex')}`

/** Running: exists and is not a zombie (a killed child waits for its reaper). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))
  } catch {
    return false
  }
}

describe('runProofCommands', () => {
  const saved = { ...process.env }
  afterEach(() => {
    process.env = { ...saved }
  })

  it('records exit codes and output digests; passes only when every command exits 0', async () => {
    const run = await runProofCommands(
      checkout,
      [
        cmd({ name: 'ok', argv: ['printf', 'hello'] }),
        cmd({ name: 'bad', argv: ['sh', '-c', 'echo no >&2; exit 3'] }),
      ],
      { log },
    )
    expect(run.passed).toBe(false)
    expect(run.evidence.map((e) => [e.detail.name, e.detail.exitCode, e.detail.timedOut])).toEqual([
      ['ok', 0, false],
      ['bad', 3, false],
    ])
    expect(run.evidence[0]?.detail.stdoutSha256).toBe(sha('hello'))
    expect(run.evidence[1]?.detail.stderrSha256).toBe(sha('no\n'))
    expect(run.evidence[0]?.kind).toBe('proof-command')
    expect((await runProofCommands(checkout, [cmd({ argv: ['true'] })], { log })).passed).toBe(true)
  })

  it('runs in the checkout; a program inside it may be named by path, one outside may not', async () => {
    writeFileSync(join(checkout, 'check.sh'), '#!/bin/sh\npwd\n')
    chmodSync(join(checkout, 'check.sh'), 0o755)
    const run = await runProofCommands(checkout, [cmd({ argv: ['./check.sh'] })], { log })
    expect(run.passed).toBe(true)
    const out = await runProofCommands(checkout, [cmd({ argv: ['../../bin/sh', '-c', 'true'] })], { log })
    expect(out.passed).toBe(false)
    expect(out.evidence[0]?.detail.exitCode).toBeNull()
  })

  it("the environment holds none of the bot's secrets", async () => {
    process.env.GITEA_TOKEN = 'tok_' + 'S3cr3t'.repeat(6)
    process.env.UW_WEBHOOK_SECRET = 'whsec_' + 'Q'.repeat(30)
    const envFile = join(checkout, 'env.txt')
    const run = await runProofCommands(
      checkout,
      [cmd({ argv: ['sh', '-c', `env > ${envFile}`], env: { CI: 'true' } })],
      { log },
    )
    expect(run.passed).toBe(true)
    const env = readFileSync(envFile, 'utf8')
    expect(env).not.toContain('S3cr3t')
    expect(env).not.toContain('QQQQ')
    const names = env
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('=')[0])
      .sort()
    expect(names.filter((n) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(n!))).toEqual([
      'CI',
      'HOME',
      'LANG',
      'LC_ALL',
      'PATH',
      'UW_EXEC_ID',
    ])
    expect(env).toMatch(/HOME=.*uw-proof-home-/)
  })

  it('a timeout kills the whole tree, a setsid grandchild included', async () => {
    const pidFile = join(checkout, 'pids')
    const started = Date.now()
    const run = await runProofCommands(
      checkout,
      [
        cmd({
          name: 'hang',
          argv: [
            'sh',
            '-c',
            `sleep 30 & echo $! > ${pidFile}; setsid sleep 31 & echo $! >> ${pidFile}; wait`,
          ],
          timeoutMs: 1000,
        }),
      ],
      { log },
    )
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(run.passed).toBe(false)
    expect(run.evidence[0]?.detail.timedOut).toBe(true)
    const pids = readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number)
    expect(pids).toHaveLength(2)
    for (const pid of pids) expect(running(pid)).toBe(false)
  })

  it('the job being cancelled stops the command and rejects', async () => {
    const ac = new AbortController()
    setTimeout(() => ac.abort(new Error('cancelled')), 200)
    await expect(
      runProofCommands(checkout, [cmd({ argv: ['sleep', '30'] })], { log, signal: ac.signal }),
    ).rejects.toThrow('cancelled')
  })
})
