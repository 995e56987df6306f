import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { createServer, connect } from 'node:net'
import { join, resolve } from 'node:path'
import { processAlive } from '../process-alive.js'

/** A redis-server child process owned by this process. */
export interface RedisServerHandle {
  /** `redis://:<password>@127.0.0.1:<port>`: what every client of this server connects with. */
  url: string
  port: number
  /** The server's `requirepass`, kept in `<dir>/password`. */
  password: string
  dir: string
  pid: number
  /** Stops the server (SIGTERM, then SIGKILL after 3 s); resolves when the process is gone. */
  stop(): Promise<void>
}

export interface StartRedisOptions {
  /** Data directory (AOF, RDB). Created if missing. */
  dir: string
  /** Port to bind on 127.0.0.1; a free port is picked when omitted. */
  port?: number
  /** Append-only file for durability across restarts. Default true. */
  appendOnly?: boolean
  /** Path of the redis-server binary. Default: `redis-server` on PATH. */
  binary?: string
}

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address ? address.port : 0
      srv.close(() => resolvePort(port))
    })
  })
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const started = Date.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>((done) => {
      const sock = connect(port, '127.0.0.1')
      sock.once('connect', () => {
        sock.end()
        done(true)
      })
      sock.once('error', () => done(false))
    })
    if (ok) return
    if (Date.now() - started > deadlineMs)
      throw new Error(`redis-server did not listen on ${port} within ${deadlineMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** The file in a data directory holding the embedded redis-server's password (mode 0600). */
export const PASSWORD_FILE = 'password'

/**
 * The data directory's Redis password: generated once (32 random bytes, hex) into
 * `<dir>/password` with mode 0600, and read back on every later start, so a restart keeps the
 * password that clients and the append-only file's owner already use. A file readable by others
 * is narrowed back to 0600; an empty or malformed one is refused rather than silently replaced.
 */
export function dataDirPassword(dir: string): string {
  const path = join(dir, PASSWORD_FILE)
  try {
    const fd = openSync(path, 'wx', 0o600)
    try {
      writeSync(fd, `${randomBytes(32).toString('hex')}\n`)
    } finally {
      closeSync(fd)
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
  const password = readFileSync(path, 'utf8').trim()
  if (!/^[\x21-\x7e]{16,512}$/.test(password))
    throw new Error(
      `${path} does not hold a usable Redis password (16-512 printable characters, no spaces); ` +
        'delete it to have a new one generated',
    )
  return password
}

/** The file in a data directory saying which process runs which redis-server on it. */
export const DATA_DIR_LOCK = 'uni-wizard.lock'

/** Contents of the lock: the owning process (pid and start time) and its redis-server. */
interface DirOwner {
  owner: number
  /** The owner's start time (Linux `/proc/<pid>/stat` field 22), so a reused pid is not taken for it. */
  ownerStart: string
  redis: number
  port: number
}

/**
 * When process `pid` started, as Linux counts it (clock ticks since boot); '' when unknown (not
 * Linux, or no such process). Two processes with one pid have different start times.
 */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
  } catch {
    return ''
  }
}

/** Whether `owner` is still the process that wrote the lock (alive, and not a reused pid). */
function ownerRuns(owner: DirOwner): boolean {
  if (!processAlive(owner.owner)) return false
  const now = processStartTime(owner.owner)
  return now === '' || owner.ownerStart === '' || now === owner.ownerStart
}

function isRedisServer(pid: number): boolean {
  if (!processAlive(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server')
  } catch {
    return process.platform !== 'linux' // cannot tell elsewhere: trust the lock
  }
}

function readOwner(path: string): DirOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<DirOwner>
    if (typeof o.owner !== 'number' || typeof o.redis !== 'number') return undefined
    return {
      owner: o.owner,
      ownerStart: String(o.ownerStart ?? ''),
      redis: o.redis,
      port: Number(o.port ?? 0),
    }
  } catch {
    return undefined
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (!processAlive(pid)) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return !processAlive(pid)
}

/**
 * Claims `dir` for this process: one redis-server per data directory, or two would write the same
 * append-only file. A lock whose owner still runs is refused. A lock left by a process that died
 * (SIGKILL, power cut) is taken over; if its redis-server outlived it, that server is stopped
 * first with SIGTERM, which makes it write its append-only file, so nothing it accepted is lost.
 */
async function claimDir(dir: string): Promise<{ path: string; owner: DirOwner }> {
  const path = join(dir, DATA_DIR_LOCK)
  const me: DirOwner = { owner: process.pid, ownerStart: processStartTime(process.pid), redis: 0, port: 0 }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, JSON.stringify(me))
      closeSync(fd)
      return { path, owner: me }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const prev = readOwner(path)
    if (!prev) {
      // Being written by a process that just claimed it, or garbage: look again, then take it.
      await new Promise((r) => setTimeout(r, 50))
      if (readOwner(path) === undefined && attempt > 0) unlinkSync(path)
      continue
    }
    if (ownerRuns(prev))
      throw new Error(
        `data directory ${dir} is in use by process ${prev.owner} (its redis-server: pid ${prev.redis}, port ${prev.port}); ` +
          `stop that process or use another UW_DATA_DIR. If no such process runs, delete ${path}.`,
      )
    if (prev.redis > 0 && isRedisServer(prev.redis)) {
      process.kill(prev.redis, 'SIGTERM')
      if (!(await waitGone(prev.redis, 10_000))) {
        process.kill(prev.redis, 'SIGKILL')
        await waitGone(prev.redis, 2_000)
      }
    }
    try {
      unlinkSync(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  throw new Error(`could not claim data directory ${dir}: ${path} keeps changing`)
}

function release(path: string, owner: DirOwner): void {
  const now = readOwner(path)
  if (now && now.owner === owner.owner && now.ownerStart === owner.ownerStart && now.redis === owner.redis)
    try {
      unlinkSync(path)
    } catch {
      // already gone
    }
}

/**
 * Starts a real redis-server bound to loopback, with AOF on and `noeviction`, so queued work
 * survives a restart and is never evicted. The data directory is claimed first (`uni-wizard.lock`,
 * see `claimDir`): a directory another running process uses is refused; a redis-server left
 * running by a process that died is stopped (gracefully) and replaced. The server requires the
 * data directory's password (`dataDirPassword`); it is handed over on stdin as configuration,
 * never in argv (which `ps` shows), and `url` carries it for this process's clients.
 *
 * @example
 *   const redis = await startRedisServer({ dir: '.data/redis' })
 *   // ... use redis.url ...
 *   await redis.stop()
 */
export async function startRedisServer(options: StartRedisOptions): Promise<RedisServerHandle> {
  const dir = resolve(options.dir)
  mkdirSync(dir, { recursive: true })
  const lock = await claimDir(dir)
  let password: string
  try {
    password = dataDirPassword(dir)
  } catch (err) {
    release(lock.path, lock.owner)
    throw err
  }
  const port = options.port ?? (await freePort())
  const args = [
    // `-` reads configuration from stdin first; the options below are added to it.
    '-',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    options.appendOnly === false ? 'no' : 'yes',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
    '--save',
    '',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
    '--loglevel',
    'warning',
  ]
  const child = spawn(options.binary ?? 'redis-server', args, { stdio: ['pipe', 'ignore', 'pipe'] })
  child.stdin?.on('error', () => {}) // a server that died at once; reported by the wait below
  child.stdin?.end(`requirepass ${password}\n`)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject))
  try {
    await Promise.race([waitForPort(port, child, 10_000), spawnError])
  } catch (err) {
    child.kill('SIGKILL')
    release(lock.path, lock.owner)
    const reason = err instanceof Error ? err.message : String(err)
    throw new Error(`could not start redis-server: ${reason}${stderr ? `\n${stderr}` : ''}`, { cause: err })
  }
  lock.owner = { ...lock.owner, redis: child.pid ?? 0, port }
  writeFileSync(lock.path, JSON.stringify(lock.owner), { mode: 0o600 })
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null) done()
    else child.once('exit', () => done())
  }).then(() => release(lock.path, lock.owner))
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    password,
    dir,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(timer)
      }
    },
  }
}
