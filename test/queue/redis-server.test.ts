import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import {
  DATA_DIR_LOCK,
  freePort,
  PASSWORD_FILE,
  processStartTime,
  startRedisServer,
  type RedisServerHandle,
} from '../../src/queue/redis-server.js'

const dirs: string[] = []
const servers: RedisServerHandle[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'uw-redis-dir-'))
  dirs.push(d)
  return d
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((r) => child.once('exit', r))
  return child.pid ?? 0
}

async function waitForPing(port: number): Promise<Redis> {
  for (let i = 0; i < 200; i++) {
    const r = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    r.on('error', () => undefined) // refused while it starts
    try {
      await r.connect()
      await r.ping()
      return r
    } catch {
      r.disconnect()
      await new Promise((res) => setTimeout(res, 25))
    }
  }
  throw new Error(`no redis on ${port}`)
}

describe('one redis-server per data directory (uni-wizard.lock)', () => {
  it('refuses a second server on a directory in use, naming the owner; frees it on stop', async () => {
    const dir = tempDir()
    const first = await startRedisServer({ dir })
    servers.push(first)
    const lock = JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK), 'utf8')) as Record<string, number>
    expect(lock).toMatchObject({ owner: process.pid, redis: first.pid, port: first.port })
    await expect(startRedisServer({ dir })).rejects.toThrow(
      new RegExp(
        `in use by process ${process.pid} \\(its redis-server: pid ${first.pid}, port ${first.port}\\)`,
      ),
    )
    const client = new Redis(first.url)
    expect(await client.ping()).toBe('PONG') // the first one is untouched
    client.disconnect()
    await first.stop()
    servers.pop()
    expect(existsSync(join(dir, DATA_DIR_LOCK))).toBe(false)
    const again = await startRedisServer({ dir })
    servers.push(again)
    expect(again.pid).not.toBe(first.pid)
  })

  it('refuses a directory whose lock names another live process', async () => {
    const dir = tempDir()
    const other = spawn('sleep', ['30'], { stdio: 'ignore' })
    try {
      const pid = other.pid ?? 0
      const owner = { owner: pid, ownerStart: processStartTime(pid), redis: 0, port: 0 }
      writeFileSync(join(dir, DATA_DIR_LOCK), JSON.stringify(owner))
      await expect(startRedisServer({ dir })).rejects.toThrow(`in use by process ${pid}`)
      expect(JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK), 'utf8'))).toEqual(owner) // left alone
    } finally {
      other.kill('SIGKILL')
    }
  })

  it('takes over a lock left by a dead process, and one whose pid now belongs to another process', async () => {
    const dir = tempDir()
    writeFileSync(
      join(dir, DATA_DIR_LOCK),
      JSON.stringify({ owner: await deadPid(), ownerStart: '1', redis: 0, port: 0 }),
    )
    const a = await startRedisServer({ dir })
    await a.stop()
    // Same pid as a live process (this one), but another start time: the pid was reused.
    writeFileSync(
      join(dir, DATA_DIR_LOCK),
      JSON.stringify({ owner: process.pid, ownerStart: 'not-now', redis: 0, port: 0 }),
    )
    const b = await startRedisServer({ dir })
    servers.push(b)
    expect(JSON.parse(readFileSync(join(dir, DATA_DIR_LOCK), 'utf8'))).toMatchObject({
      owner: process.pid,
      redis: b.pid,
    })
  })

  it('stops the redis-server a dead owner left running, keeping what it had accepted, and starts its own', async () => {
    const dir = tempDir()
    const port = await freePort()
    // An orphan: what a SIGKILLed `npm start` leaves behind (its redis-server child keeps running).
    const orphan = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
      { stdio: 'ignore' },
    )
    const orphanExit = new Promise((r) => orphan.once('exit', r))
    const client = await waitForPing(port)
    await client.set('accepted', 'before the crash')
    client.disconnect()
    writeFileSync(
      join(dir, DATA_DIR_LOCK),
      JSON.stringify({ owner: await deadPid(), ownerStart: '1', redis: orphan.pid, port }),
    )
    const mine = await startRedisServer({ dir })
    servers.push(mine)
    await orphanExit
    expect(orphan.signalCode).toBe(null) // it exited on SIGTERM by itself, not killed
    const c = new Redis(mine.url)
    expect(await c.get('accepted')).toBe('before the crash')
    c.disconnect()
  })
})

/** Sends one inline command on a fresh connection and returns the first reply line. */
function rawReply(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(`${command}\r\n`))
    sock.once('data', (d: Buffer) => {
      sock.destroy()
      resolve(d.toString().split('\r\n')[0] ?? '')
    })
    sock.once('error', reject)
  })
}

describe('the embedded redis-server requires a password kept in the data directory', () => {
  it('refuses a client without it (NOAUTH), serves one with it, and keeps it out of argv', async () => {
    const dir = tempDir()
    const server = await startRedisServer({ dir })
    servers.push(server)
    const file = join(dir, PASSWORD_FILE)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8').trim()).toBe(server.password)
    expect(server.password).toMatch(/^[0-9a-f]{64}$/)
    expect(server.url).toBe(`redis://:${server.password}@127.0.0.1:${server.port}`)

    expect(await rawReply(server.port, 'PING')).toMatch(/^-NOAUTH/)
    expect(await rawReply(server.port, 'AUTH not-the-password')).toMatch(/^-WRONGPASS/)
    expect(await rawReply(server.port, `AUTH ${server.password}`)).toBe('+OK')
    const client = new Redis(server.url)
    expect(await client.ping()).toBe('PONG')
    client.disconnect()

    // argv is visible to every local user through ps: the password is not in it.
    expect(readFileSync(`/proc/${server.pid}/cmdline`, 'utf8')).not.toContain(server.password)
  })

  it('reuses the password on restart, so the append-only data and its clients keep working', async () => {
    const dir = tempDir()
    const first = await startRedisServer({ dir })
    const c1 = new Redis(first.url)
    await c1.set('kept', 'across restarts')
    c1.disconnect()
    await first.stop()
    const again = await startRedisServer({ dir, port: first.port })
    servers.push(again)
    expect(again.password).toBe(first.password)
    expect(again.url).toBe(first.url)
    const c2 = new Redis(again.url)
    expect(await c2.get('kept')).toBe('across restarts')
    c2.disconnect()
  })

  it('narrows a password file others can read back to 0600, and refuses an unusable one', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, PASSWORD_FILE), 'a-password-set-by-hand-0123\n', { mode: 0o644 })
    const server = await startRedisServer({ dir })
    servers.push(server)
    expect(server.password).toBe('a-password-set-by-hand-0123')
    expect(statSync(join(dir, PASSWORD_FILE)).mode & 0o777).toBe(0o600)
    await server.stop()
    servers.pop()
    writeFileSync(join(dir, PASSWORD_FILE), '\n')
    await expect(startRedisServer({ dir })).rejects.toThrow(/does not hold a usable Redis password/)
    expect(existsSync(join(dir, DATA_DIR_LOCK))).toBe(false) // the claim is released
  })
})
