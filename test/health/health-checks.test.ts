import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/harness/redactor.js'
import { HealthChecks } from '../../src/health/health-checks.js'

describe('HealthChecks', () => {
  it('reports each dependency with its latency, and keeps the last error after it recovers', async () => {
    let gitea: Error | undefined = new Error('HTTP 502 from Gitea')
    const checks = new HealthChecks([
      { name: 'redis', check: async () => {} },
      {
        name: 'gitea',
        check: async () => {
          await new Promise((r) => setTimeout(r, 20))
          if (gitea) throw gitea
        },
      },
    ])
    const [redis, first] = await checks.run()
    expect(redis).toMatchObject({ name: 'redis', ok: true })
    expect(redis!.lastError).toBeUndefined()
    expect(first).toMatchObject({ name: 'gitea', ok: false, lastError: 'HTTP 502 from Gitea' })
    expect(first!.latencyMs).toBeGreaterThanOrEqual(15)
    expect(first!.lastOkAt).toBeUndefined()

    gitea = undefined
    const [, second] = await checks.run()
    expect(second).toMatchObject({
      ok: true,
      lastError: 'HTTP 502 from Gitea',
      lastErrorAt: first!.checkedAt,
    })
    expect(second!.lastOkAt).toBe(second!.checkedAt)
  })

  it('gives up on a check at its timeout and aborts its signal', async () => {
    let aborted = false
    const checks = new HealthChecks(
      [
        {
          name: 'agent:ezra',
          check: (signal) =>
            new Promise<void>(() => signal.addEventListener('abort', () => (aborted = true))),
        },
      ],
      { timeoutMs: 100 },
    )
    const [state] = await checks.run()
    expect(state).toMatchObject({ ok: false, lastError: 'no answer within 100 ms' })
    expect(state!.latencyMs).toBeGreaterThanOrEqual(90)
    expect(aborted).toBe(true)
  })

  it('never shows a secret or the credentials of a URL in an error', async () => {
    const token = 'f3a1c9e2b7d84a6f0e1d2c3b4a596877'
    const checks = new HealthChecks(
      [
        {
          name: 'redis',
          check: async () => {
            throw new Error('connect ECONNREFUSED redis://default:hunter2hunter2@10.0.0.5:6379')
          },
        },
        {
          name: 'gitea',
          check: async () => {
            throw new Error(`401 for token ${token}`)
          },
        },
      ],
      { redact: createRedactor([token]) },
    )
    const states = await checks.run()
    const text = JSON.stringify(states)
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain(token)
    expect(states[0]!.lastError).toContain('redis://10.0.0.5:6379')
    expect(states[1]!.lastError).toContain('401 for token')
  })
})
