import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { freePort } from '../../src/queue/redis-server.js'
import { TEST_RUN_VAR } from './leftovers.js'

/**
 * Real Redis topologies on loopback for the HA tests: a primary, a replica and three Sentinels, or
 * a three-primary Cluster. Every process runs in its own process group from a temp dir; `stop()`
 * ends them all and removes the dir.
 *
 * redis-server overwrites its environment when it sets its process title, so the run's mark
 * (UW_TEST_RUN, test/helpers/leftovers.ts) would vanish from /proc/<pid>/environ; each process
 * carries it in its title instead (`proc-title-template`), where the end-of-run check also looks.
 */

/** One redis-server or redis-sentinel child. */
export interface RedisNode {
  port: number
  pid: number
  /** SIGKILL: a crash (process, not machine: what reached the kernel is still written). */
  kill(): Promise<void>
  /** SIGSTOP / SIGCONT: a node that stops answering without closing its sockets. */
  pause(): void
  resume(): void
  /** Starts the node again on its port, directory and configuration (as systemd's Restart= would). */
  restart(): Promise<void>
  stop(): Promise<void>
  alive(): boolean
}

const WAIT_MS = 15_000

function titleTemplate(): string {
  const run = process.env[TEST_RUN_VAR]
  return `{title} {listen-addr} {server-mode}${run ? ` ${TEST_RUN_VAR}=${run}` : ''}`
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await delay(50)
  }
}

/** A short-lived client for one node: runs `fn`, always disconnects. */
export async function withNode<T>(
  port: number,
  password: string | undefined,
  fn: (r: Redis) => Promise<T>,
): Promise<T> {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    password,
    lazyConnect: true,
    // The ready check's INFO would fail with NOAUTH on a node probed without its password.
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: 1000,
  })
  r.on('error', () => undefined)
  try {
    await r.connect()
    return await fn(r)
  } finally {
    r.disconnect()
  }
}

/** Starts `binary <conf>` detached, with the title carrying the run's mark; resolves once it listens. */
async function startNode(binary: string, dir: string, port: number, conf: string[]): Promise<RedisNode> {
  const file = join(dir, 'redis.conf')
  writeFileSync(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      'daemonize no',
      'loglevel warning',
      `proc-title-template "${titleTemplate()}"`,
      ...conf,
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  let child: ChildProcess
  let stderr = ''
  const launch = async () => {
    child = spawn(binary, [file], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.resume()
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)))
    const spawned = new Promise<never>((_, reject) => child.once('error', reject))
    const listening = Promise.race([
      spawned,
      until(`${binary} on ${port}`, async () => {
        if (child.exitCode !== null) throw new Error(`${binary} exited ${child.exitCode}: ${stderr}`)
        return withNode(port, undefined, async (r) => {
          // A NOAUTH answer also means it listens.
          await r.ping().catch((err: Error) => {
            if (!/NOAUTH/.test(err.message)) throw err
          })
          return true
        })
      }),
    ])
    await listening.catch(async (err: unknown) => {
      signal('SIGKILL')
      throw err
    })
  }
  const exited = () =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => child.once('exit', () => r()))
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig)
    } catch {
      // The group is gone.
    }
  }
  await launch()
  return {
    port,
    get pid() {
      return child.pid ?? -1
    },
    async kill() {
      const gone = exited()
      signal('SIGKILL')
      await gone
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async restart() {
      await launch()
    },
    async stop() {
      const gone = exited()
      signal('SIGCONT')
      signal('SIGTERM')
      const timer = setTimeout(() => signal('SIGKILL'), 3_000)
      await gone
      clearTimeout(timer)
    },
    alive: () => child.exitCode === null && child.signalCode === null,
  }
}

/** A primary, a replica and three Sentinels (quorum 2) monitoring them. */
export interface SentinelTopology {
  /** `redis+sentinel://:<password>@127.0.0.1:<s1>,...,<s3>/<master>`: what the bot is given. */
  url: string
  master: string
  password: string
  /** The data nodes, primary first as started (roles change at failover: see `primaryPort`). */
  nodes: [RedisNode, RedisNode]
  sentinels: RedisNode[]
  /** The port the Sentinels currently name as primary. */
  primaryPort(): Promise<number>
  /** The data node the Sentinels currently name as primary. */
  primary(): Promise<RedisNode>
  /** Resolves once the Sentinels name a primary other than `oldPort`; returns the new port. */
  failedOver(oldPort: number, ms?: number): Promise<number>
  /** Resolves once `node` replicates the current primary with the link up. */
  replicating(node: RedisNode, ms?: number): Promise<void>
  stop(): Promise<void>
}

export interface SentinelOptions {
  /** Sentinel's down-after-milliseconds. Default 1000. */
  downAfterMs?: number
  /** Sentinel's failover-timeout. Default 5000. */
  failoverTimeoutMs?: number
  /** Extra lines for both data nodes' configuration (e.g. `min-replicas-to-write 1`). */
  dataConf?: string[]
}

export async function startSentinelTopology(options: SentinelOptions = {}): Promise<SentinelTopology> {
  const root = mkdtempSync(join(tmpdir(), 'uw-sentinel-'))
  const password = randomBytes(16).toString('hex')
  const master = 'uwmaster'
  const started: RedisNode[] = []
  const stopAll = async () => {
    await Promise.all(started.map((n) => n.stop()))
    rmSync(root, { recursive: true, force: true })
  }
  try {
    const data = (name: string) => {
      const dir = join(root, name)
      mkdirSync(dir)
      return dir
    }
    const dataConf = [
      `requirepass ${password}`,
      `masterauth ${password}`,
      'appendonly yes',
      'appendfsync everysec',
      'save ""',
      'maxmemory-policy noeviction',
      // A replica that starts must not wait Redis 7's default 5 s before its first full sync.
      'repl-diskless-sync-delay 0',
      ...(options.dataConf ?? []),
    ]
    const primaryPort = await freePort()
    const primary = await startNode('redis-server', data('primary'), primaryPort, dataConf)
    started.push(primary)
    const replica = await startNode('redis-server', data('replica'), await freePort(), [
      ...dataConf,
      `replicaof 127.0.0.1 ${primaryPort}`,
    ])
    started.push(replica)
    const sentinels: RedisNode[] = []
    for (const name of ['s1', 's2', 's3']) {
      const s = await startNode('redis-sentinel', data(name), await freePort(), [
        `sentinel monitor ${master} 127.0.0.1 ${primaryPort} 2`,
        `sentinel auth-pass ${master} ${password}`,
        `sentinel down-after-milliseconds ${master} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${master} ${options.failoverTimeoutMs ?? 5000}`,
        `sentinel parallel-syncs ${master} 1`,
      ])
      sentinels.push(s)
      started.push(s)
    }
    const nodes: [RedisNode, RedisNode] = [primary, replica]
    const askSentinel = async (): Promise<number> => {
      for (const s of sentinels) {
        if (!s.alive()) continue
        try {
          const addr = await withNode(s.port, undefined, (r) =>
            r.call('SENTINEL', 'get-master-addr-by-name', master),
          )
          if (Array.isArray(addr)) return Number(addr[1])
        } catch {
          // Ask the next one.
        }
      }
      throw new Error('no Sentinel answered')
    }
    /** What each live Sentinel says: the primary it names and whether it is failing over. */
    const sentinelViews = async (): Promise<{ port: number; failingOver: boolean }[]> => {
      const views: { port: number; failingOver: boolean }[] = []
      for (const s of sentinels) {
        if (!s.alive()) continue
        const view = await withNode(s.port, undefined, async (r) => {
          const addr = await r.call('SENTINEL', 'get-master-addr-by-name', master)
          const flat = (await r.call('SENTINEL', 'master', master)) as string[]
          const flags = String(flat[flat.indexOf('flags') + 1] ?? '')
          return Array.isArray(addr)
            ? { port: Number(addr[1]), failingOver: flags.includes('failover') }
            : undefined
        }).catch(() => undefined)
        if (view) views.push(view)
      }
      return views
    }
    const topology: SentinelTopology = {
      url: `redis+sentinel://:${password}@${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${master}`,
      master,
      password,
      nodes,
      sentinels,
      primaryPort: askSentinel,
      async primary() {
        const port = await askSentinel()
        const node = nodes.find((n) => n.port === port)
        if (!node) throw new Error(`the Sentinels name an unknown primary on ${port}`)
        return node
      },
      failedOver: (oldPort, ms = 30_000) =>
        until(
          'failover',
          async () => {
            // Done, not only begun: a Sentinel names the promoted replica as soon as its failover
            // starts, and a failover can still be aborted (then the old primary, restarted, is
            // the primary again). So every Sentinel must name the same new primary with no
            // failover in progress, and the new primary must say so itself.
            const views = await sentinelViews()
            const port = views[0]?.port
            if (port === undefined || port === oldPort) return undefined
            if (views.length < sentinels.length || views.some((v) => v.port !== port || v.failingOver))
              return undefined
            const role = await withNode(port, password, (r) => r.call('ROLE'))
            return Array.isArray(role) && role[0] === 'master' ? port : undefined
          },
          ms,
        ),
      replicating: async (node, ms = 45_000) => {
        // A returning old primary is made a replica when a Sentinel next looks at it (its INFO
        // period is 10 s), then syncs in full: 10-13 s here on a quiet machine, longer under load.
        let seen = 'nothing yet'
        await until(
          `replica on ${node.port} in sync`,
          async () => {
            const primaryAt = await askSentinel()
            const info = await withNode(node.port, password, (r) => r.info('replication'))
            const views = await sentinelViews()
            seen = `sentinels name ${views.map((v) => `${v.port}${v.failingOver ? ' (failing over)' : ''}`).join(', ')}; node says ${info
              .split('\r\n')
              .filter((l) => /^(role|master_port|master_link_status|master_sync_in_progress):/.test(l))
              .join(' ')}`
            return info.includes(`master_port:${primaryAt}`) && info.includes('master_link_status:up')
              ? true
              : undefined
          },
          ms,
        ).catch((err: unknown) => {
          throw new Error(`${String(err)} (last seen: ${seen})`)
        })
      },
      stop: stopAll,
    }
    await topology.replicating(replica)
    // Every Sentinel knows the replica and the two other Sentinels: a failover can be agreed on.
    for (const s of sentinels)
      await until(`sentinel ${s.port} to see its peers`, () =>
        withNode(s.port, undefined, async (r) => {
          const flat = (await r.call('SENTINEL', 'master', master)) as string[]
          const field = (k: string) => Number(flat[flat.indexOf(k) + 1])
          return field('num-other-sentinels') === 2 && field('num-slaves') === 1 ? true : undefined
        }),
      )
    return topology
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** Three Redis Cluster primaries, slots spread by `redis-cli --cluster create`. */
export interface ClusterTopology {
  /** `redis+cluster://:<password>@127.0.0.1:<p1>,<p2>,<p3>` */
  url: string
  password: string
  nodes: RedisNode[]
  /** Runs a command on one node (e.g. CLUSTER KEYSLOT, SCAN): `port` default the first node. */
  call(args: string[], port?: number): Promise<unknown>
  stop(): Promise<void>
}

export async function startClusterTopology(): Promise<ClusterTopology> {
  const root = mkdtempSync(join(tmpdir(), 'uw-cluster-'))
  const password = randomBytes(16).toString('hex')
  const nodes: RedisNode[] = []
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    rmSync(root, { recursive: true, force: true })
  }
  try {
    for (const name of ['c1', 'c2', 'c3']) {
      const dir = join(root, name)
      mkdirSync(dir)
      nodes.push(
        await startNode('redis-server', dir, await freePort(), [
          'cluster-enabled yes',
          'cluster-config-file nodes.conf',
          'cluster-node-timeout 2000',
          `requirepass ${password}`,
          `masterauth ${password}`,
          'appendonly no',
          'save ""',
        ]),
      )
    }
    const hosts = nodes.map((n) => `127.0.0.1:${n.port}`)
    await new Promise<void>((resolve, reject) => {
      // The password goes in the environment (REDISCLI_AUTH), not argv.
      const cli = spawn('redis-cli', ['--cluster', 'create', ...hosts, '--cluster-yes'], {
        env: { ...process.env, REDISCLI_AUTH: password },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      cli.stdout?.on('data', (c: Buffer) => (out += c.toString()))
      cli.stderr?.on('data', (c: Buffer) => (out += c.toString()))
      cli.once('error', reject)
      cli.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited ${code}: ${out}`)),
      )
    })
    for (const n of nodes)
      await until(`cluster state ok on ${n.port}`, () =>
        withNode(n.port, password, async (r) =>
          (await r.call('CLUSTER', 'INFO'))?.toString().includes('cluster_state:ok') ? true : undefined,
        ),
      )
    return {
      url: `redis+cluster://:${password}@${hosts.join(',')}`,
      password,
      nodes,
      call: (args, port = nodes[0]!.port) =>
        withNode(port, password, (r) => r.call(args[0]!, ...args.slice(1))),
      stop: stopAll,
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
