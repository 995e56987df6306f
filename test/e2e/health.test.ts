// Health of every instance, with real processes: a `uni-wizard worker --house ezra` child serves
// /health, /ready, /health/details and /metrics on its own port and registers in Redis beside the
// in-process serve (ingress, router, reporter); `uni-wizard health` (a child too) checks both and
// the houses, and its exit code follows what it found: the house's agent endpoint going down, the
// worker SIGKILLed. (Targets and the report's rules: test/health/check-health.test.ts.)
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startModelDouble, type RunningModelDouble } from '../../src/agents/openai/double/index.js'
import type { HealthReport } from '../../src/health/check-health.js'
import { listInstances, type InstanceInfo } from '../../src/health/instance-registry.js'
import { LoopWorld, until } from './loop-world.js'

const KEY_ENV = 'UW_TEST_EZRA_AGENT_KEY'
const AGENT_KEY = 'sk-health-test-9f2c41d7e8a3b6c5'
let model: RunningModelDouble
const world = new LoopWorld({
  fileConfig: (c) => {
    const houses = c.houses as Record<string, Record<string, unknown>>
    houses.ezra = {
      ...houses.ezra,
      agent: { backend: 'openai', endpoint: `${model.url}/v1`, model: 'double-model', keyEnv: KEY_ENV },
    }
    return c
  },
})
const children = new Set<ChildProcess>()

function env(): NodeJS.ProcessEnv {
  return { ...world.childEnv(), [KEY_ENV]: AGENT_KEY, UW_HEALTH_PORT: '0' }
}

/** `uni-wizard health <args>` as a child; resolves to its exit code and output. */
function healthCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run-main.ts', 'health', ...args],
      { env: env(), timeout: 20_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          out: stdout,
          err: stderr,
        }),
    )
    children.add(child)
    child.once('exit', () => children.delete(child))
  })
}

let worker: ChildProcess
let workerInfo: InstanceInfo

beforeAll(async () => {
  model = await startModelDouble({ apiKey: AGENT_KEY, script: [{ content: 'ok' }] })
  process.env[KEY_ENV] = AGENT_KEY
  // ezra's only worker is the child.
  await world.start({ ingress: true, router: true, reporter: true, workers: [] })
  worker = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run-main.ts', 'worker', '--house', 'ezra'], {
    env: env(),
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  })
  worker.stderr?.resume()
  children.add(worker)
  worker.once('exit', () => children.delete(worker))
  workerInfo = await until(
    'the worker registered',
    async () => (await listInstances(world.redis, world.prefix)).find((i) => i.houses.includes('ezra')),
    20_000,
  )
}, 40_000)

afterAll(async () => {
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL')
    } catch {
      c.kill('SIGKILL')
    }
  }
  await world.stop()
  await model?.close()
  delete process.env[KEY_ENV]
})

describe('health of every instance', () => {
  it('a worker-only process serves /health, /ready, /health/details and /metrics on its own port', async () => {
    expect(workerInfo).toMatchObject({ pieces: ['workers'], houses: ['ezra'], pid: worker.pid })
    const base = workerInfo.address!
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${base}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({
      ready: true,
      checks: { redis: 'ok', gitea: 'ok', 'agent:ezra': 'ok' },
    })
    const details = (await (await fetch(`${base}/health/details`)).json()) as {
      status: string
      instance: InstanceInfo
      checks: { name: string; ok: boolean; latencyMs: number }[]
    }
    expect(details.status).toBe('ok')
    expect(details.instance.id).toBe(workerInfo.id)
    expect(details.checks.map((c) => c.name)).toEqual(['redis', 'gitea', 'agent:ezra'])
    for (const c of details.checks) expect(c.latencyMs).toBeGreaterThanOrEqual(0)
    const metrics = await fetch(`${base}/metrics`)
    expect(metrics.status).toBe(200)
    expect(metrics.headers.get('content-type')).toContain('text/plain')
    // The process's own registry: the loop's metrics, read from Redis at scrape time.
    const text = await metrics.text()
    expect(text).toMatch(/^uw_redis_up 1$/m)
    expect(text).toContain('uw_house_workers_alive{house="ezra"}')
  })

  it('the serve process registers its ingress address and answers /health/details there', async () => {
    const instances = await listInstances(world.redis, world.prefix)
    const serve = instances.find((i) => i.pieces.includes('ingress'))
    expect(serve).toMatchObject({ pieces: ['ingress', 'router', 'reporter'], houses: [] })
    expect(serve!.address).toBe(world.services.httpUrl)
    const details = (await (await fetch(`${serve!.address}/health/details`)).json()) as {
      checks: { name: string }[]
    }
    expect(details.checks.map((c) => c.name)).toEqual(['redis', 'gitea'])
  })

  it('`uni-wizard health` finds both instances and the live house: exit 0', async () => {
    const r = await healthCli('--json')
    expect(r.code, r.err + r.out).toBe(0)
    const report = JSON.parse(r.out) as HealthReport
    expect(report.healthy).toBe(true)
    expect(report.instances.map((i) => i.healthy)).toEqual([true, true])
    const ezra = report.houses.find((h) => h.house === 'ezra')
    expect(ezra).toMatchObject({ healthy: true, workers: 1, agent: { ok: true, checkedBy: workerInfo.id } })
    // No worker of these ever ran here: listed, not counted.
    expect(report.houses.filter((h) => h.healthy === null).map((h) => h.house)).toEqual(
      expect.arrayContaining(['timmy', 'bezalel', 'allegro']),
    )
    const text = await healthCli()
    expect(text.code).toBe(0)
    expect(text.out).toContain(`house ezra: alive (1 worker); agent ok (checked by ${workerInfo.id})`)
    expect(text.out.trim().split('\n').at(-1)).toBe('healthy')
  }, 30_000)

  it("the house's agent endpoint down: the worker is not ready, health exits 1, and no secret shows", async () => {
    await model.close()
    try {
      const ready = await fetch(`${workerInfo.address}/ready`)
      expect(ready.status).toBe(503)
      const body = (await ready.json()) as { checks: Record<string, string> }
      expect(body.checks.redis).toBe('ok')
      expect(body.checks['agent:ezra']).not.toBe('ok')
      const r = await healthCli('ezra', '--json')
      expect(r.code).toBe(1)
      const report = JSON.parse(r.out) as HealthReport
      expect(report.houses).toEqual([expect.objectContaining({ house: 'ezra', healthy: false })])
      expect(report.instances).toEqual([expect.objectContaining({ id: workerInfo.id, healthy: false })])
      for (const text of [JSON.stringify(body), r.out, r.err]) {
        expect(text).not.toContain(AGENT_KEY)
        expect(text).not.toContain(world.tokens.bot)
      }
    } finally {
      model = await startModelDouble({ apiKey: AGENT_KEY, port: Number(new URL(model.url).port) })
    }
    expect((await fetch(`${workerInfo.address}/ready`)).status).toBe(200)
  }, 30_000)

  it('the worker SIGKILLed: its house is down and its instance gone, health exits 1', async () => {
    const exited = new Promise((r) => worker.once('exit', r))
    process.kill(-worker.pid!, 'SIGKILL')
    await exited
    // The e2e config beats every 200 ms, so heartbeats and the registration live 600 ms.
    const r = await until(
      'health to see the house down',
      async () => {
        const out = await healthCli('ezra', '--json')
        return out.code === 1 ? out : undefined
      },
      15_000,
    )
    const report = JSON.parse(r.out) as HealthReport
    expect(report.houses).toEqual([expect.objectContaining({ house: 'ezra', healthy: false, workers: 0 })])
    expect(report.instances).toEqual([])
    expect(report.houses[0]!.lastSeen).toBeDefined()
  }, 30_000)
})
