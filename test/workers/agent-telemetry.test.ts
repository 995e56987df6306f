import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/harness/redactor.js'
import { readTelemetry, RedisTelemetry, telemetryStreamKey } from '../../src/telemetry/index.js'
import { AgentRunLog } from '../../src/workers/agent-run-log.js'
import { agentTelemetry } from '../../src/workers/agent-telemetry.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const log = pino({ level: 'silent' })
const GITEA_TOKEN = '0f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4'

describe('agent run telemetry (every event passes AgentRunLog.record)', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefix = uniquePrefix()
  afterAll(async () => {
    await cleanupPrefix(prefix)
    redis.disconnect()
  })

  it('appends tool calls and final messages once per position, with no secret, and no streamed parts', async () => {
    const redact = createRedactor([GITEA_TOKEN])
    const sink = new RedisTelemetry({
      redis,
      prefix,
      retention: { maxEvents: 1000, maxAgeHours: 1, onceTtlSeconds: 60 },
      redact,
      log,
    })
    const rec = { id: 'j1', run: 1, house: 'timmy', tool: 'agent.ask' }
    const runLog = () =>
      new AgentRunLog({
        redact,
        appendEvent: async () => 0,
        showProgress: async () => undefined,
        progressMs: 60_000,
        log,
        emit: agentTelemetry(sink, rec, redact),
      })
    const first = runLog()
    const events = [
      { kind: 'tool.started', at: 1, callId: 'c1', tool: 'file_read', args: `{"path":"${GITEA_TOKEN}"}` },
      {
        kind: 'tool.finished',
        at: 2,
        callId: 'c1',
        tool: 'file_read',
        status: `ok ${GITEA_TOKEN}`,
        durationMs: 5,
        summary: GITEA_TOKEN,
      },
      { kind: 'message', at: 3, text: 'part one ', final: false },
      {
        kind: 'message',
        at: 4,
        text: `The token is ${GITEA_TOKEN} and more ${'x'.repeat(500)}`,
        final: true,
      },
    ] as const
    for (const e of events) await first.record(e)
    // A worker taking the run over replays nothing and goes on from the stored events' count.
    const second = runLog()
    second.resume(events.map((e) => redact(JSON.stringify(e))))
    await second.record({
      kind: 'approval.requested',
      at: 5,
      requestId: 'r1',
      description: `run with ${GITEA_TOKEN}`,
    })
    first.stop()
    second.stop()

    const got = (await readTelemetry(redis, prefix, '0')).events
    expect(got.map((e) => `${e.type}${'seq' in e ? ` ${e.seq}` : ''}`)).toEqual([
      'agent.tool 0',
      'agent.tool 1',
      'agent.message 3',
      'agent.event 4',
    ])
    expect(got[2]).toMatchObject({
      chars: events[3].text.length,
      summary: expect.stringMatching(/^The token is \[redacted\]/),
    })
    expect((got[2] as { summary: string }).summary.length).toBe(200)
    const raw = JSON.stringify(await redis.xrange(telemetryStreamKey(prefix), '-', '+'))
    expect(raw).not.toContain(GITEA_TOKEN)
    expect(raw).not.toContain(GITEA_TOKEN.slice(0, 12))
    expect(raw).not.toContain(
      'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    )
  })
})
