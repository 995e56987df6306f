import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { resolve } from 'node:path'

/** A redis-server child process owned by this process. */
export interface RedisServerHandle {
  url: string
  port: number
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

/**
 * Starts a real redis-server bound to loopback, with AOF on and `noeviction`, so queued work
 * survives a restart and is never evicted.
 *
 * @example
 *   const redis = await startRedisServer({ dir: '.data/redis' })
 *   // ... use redis.url ...
 *   await redis.stop()
 */
export async function startRedisServer(options: StartRedisOptions): Promise<RedisServerHandle> {
  const dir = resolve(options.dir)
  mkdirSync(dir, { recursive: true })
  const port = options.port ?? (await freePort())
  const args = [
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
  const child = spawn(options.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject))
  try {
    await Promise.race([waitForPort(port, child, 10_000), spawnError])
  } catch (err) {
    child.kill('SIGKILL')
    const reason = err instanceof Error ? err.message : String(err)
    throw new Error(`could not start redis-server: ${reason}${stderr ? `\n${stderr}` : ''}`, { cause: err })
  }
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null) done()
    else child.once('exit', () => done())
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
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
