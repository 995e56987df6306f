import { describe, expect, it } from 'vitest'
import type { HouseLiveness } from '../../src/commands-core/command-spec.js'
import { checkHealth, formatHealth, type CheckHealthDeps } from '../../src/health/check-health.js'
import type { InstanceInfo } from '../../src/health/instance-registry.js'

const instance = (id: string, houses: string[], address?: string): InstanceInfo => ({
  id,
  pieces: houses.length ? ['workers'] : ['ingress', 'router', 'reporter'],
  houses,
  ...(address ? { address } : {}),
  host: 'h',
  pid: 1,
  startedAt: '2026-12-06T00:00:00.000Z',
  version: '0.1.0',
})

const details = (ready: boolean, checks: { name: string; ok: boolean; lastError?: string }[]) =>
  Response.json({
    status: ready ? 'ok' : 'degraded',
    ready,
    checks: checks.map((c) => ({ latencyMs: 1, checkedAt: 't', ...c })),
  })

function deps(
  over: Partial<CheckHealthDeps> & { live?: Record<string, HouseLiveness> } = {},
): CheckHealthDeps {
  const live = over.live ?? {}
  return {
    instances: async () => [
      instance('web:1', [], 'http://web'),
      instance('build:2', ['ezra'], 'http://build'),
    ],
    houses: [
      { name: 'ezra', agent: true },
      { name: 'timmy', agent: false },
    ],
    liveness: async (h) => live[h] ?? { alive: false, workers: 0, lastSeen: undefined },
    agentHealth: async () => {
      throw new Error('not reachable from here')
    },
    fetch: (async (url: string) =>
      String(url).startsWith('http://build')
        ? details(true, [
            { name: 'redis', ok: true },
            { name: 'agent:ezra', ok: true },
          ])
        : details(true, [{ name: 'redis', ok: true }])) as unknown as typeof fetch,
    ...over,
  }
}

const ezraAlive = { ezra: { alive: true, workers: 1, lastSeen: '2026-12-06T00:00:01.000Z' } }

describe('checkHealth', () => {
  it('is healthy when every instance is ready and every house seen is alive; a house never seen does not count', async () => {
    const r = await checkHealth(deps({ live: ezraAlive }))
    expect(r.healthy).toBe(true)
    expect(r.houses).toEqual([
      {
        house: 'ezra',
        healthy: true,
        workers: 1,
        lastSeen: '2026-12-06T00:00:01.000Z',
        agent: { ok: true, checkedBy: 'build:2' },
      },
      { house: 'timmy', healthy: null, workers: 0 },
    ])
    expect(formatHealth(r).at(-1)).toBe('healthy')
  })

  it('is unhealthy for a house seen before with no live worker, an instance not answering, or a failing agent', async () => {
    const down = await checkHealth(
      deps({ live: { ezra: { alive: false, workers: 0, lastSeen: '2026-12-06T00:00:01.000Z' } } }),
    )
    expect(down.healthy).toBe(false)
    expect(formatHealth(down)).toContain(
      'house ezra: DOWN: no live worker, last seen 2026-12-06T00:00:01.000Z; agent ok (checked by build:2)',
    )

    const silent = await checkHealth(
      deps({
        live: ezraAlive,
        fetch: (async () => Promise.reject(new Error('ECONNREFUSED'))) as unknown as typeof fetch,
      }),
    )
    expect(silent.healthy).toBe(false)
    expect(silent.instances.map((i) => i.error)).toEqual([
      'no answer: ECONNREFUSED',
      'no answer: ECONNREFUSED',
    ])
    // No instance checked the agent: it is checked from here, and fails.
    expect(silent.houses[0]!.agent).toEqual({
      ok: false,
      detail: 'not reachable from here',
      checkedBy: 'here',
    })

    const unreadable = await checkHealth(
      deps({
        live: ezraAlive,
        fetch: (async () => Response.json({ nope: 1 }, { status: 500 })) as unknown as typeof fetch,
      }),
    )
    expect(unreadable.instances[0]!.error).toBe('unreadable answer (HTTP 500)')
  })

  it('reports a draining instance (shutting down, finishing its jobs) as not ready, and says so', async () => {
    const r = await checkHealth(
      deps({
        live: ezraAlive,
        fetch: (async (url: string) =>
          String(url).startsWith('http://build')
            ? Response.json({ status: 'draining', ready: false, draining: true, checks: [] })
            : details(true, [{ name: 'redis', ok: true }])) as unknown as typeof fetch,
      }),
    )
    expect(r.healthy).toBe(false)
    expect(r.instances[1]).toMatchObject({ id: 'build:2', healthy: false, draining: true })
    expect(r.instances[0]).not.toHaveProperty('draining')
    expect(formatHealth(r)).toContain(
      'instance build:2 (workers; houses ezra) http://build: DRAINING (shutting down, finishing its running jobs)',
    )
  })

  it('checks one target: an instance by id, or a house with its instances; a house never seen fails as a target', async () => {
    const one = await checkHealth(deps({ live: ezraAlive }), 'web:1')
    expect(one.instances.map((i) => i.id)).toEqual(['web:1'])
    expect(one.houses).toEqual([])
    const ezra = await checkHealth(deps({ live: ezraAlive }), 'ezra')
    expect(ezra.instances.map((i) => i.id)).toEqual(['build:2'])
    expect(ezra.houses.map((h) => h.house)).toEqual(['ezra'])
    expect(ezra.healthy).toBe(true)
    const timmy = await checkHealth(deps({ live: ezraAlive }), 'timmy')
    expect(timmy.healthy).toBe(false)
    await expect(checkHealth(deps(), 'nobody')).rejects.toThrow(
      'no instance or house named "nobody" (houses: ezra, timmy; instances: web:1, build:2)',
    )
  })
})
