import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { meteredTelemetry, registerJobMetrics } from '../../src/metrics/index.js'
import type { TelemetryEvent } from '../../src/telemetry/telemetry-event.js'
import type { TelemetrySink } from '../../src/telemetry/telemetry-sink.js'
import { samples, valueOf } from '../helpers/prom-text.js'

function world() {
  const registry = new Registry()
  const metrics = registerJobMetrics(registry, { houses: ['ezra'], tools: ['git_status', 'agent.ask'] })
  const emitted: (string | undefined)[] = []
  const inner: TelemetrySink = { emit: async (_e, once) => void emitted.push(once) }
  const sink = meteredTelemetry(inner, metrics)
  return { sink, emitted, scrape: async () => samples(await registry.metrics()) }
}

const ref = (jobId: string, house = 'ezra', tool = 'git_status') => ({ jobId, run: 1, house, tool })
const started = (jobId: string, house?: string, tool?: string): TelemetryEvent => ({
  type: 'job.started',
  ...ref(jobId, house, tool),
  worker: 'w1',
  waitMs: 1500,
})
const finished = (jobId: string, state: string, house?: string, tool?: string): TelemetryEvent => ({
  type: 'job.finished',
  ...ref(jobId, house, tool),
  state,
  durationMs: 10,
})

describe('job metrics from the telemetry sink', () => {
  it('counts each step once, also when it is emitted again with the same key, and passes every emit on', async () => {
    const { sink, emitted, scrape } = world()
    await sink.emit(started('j1'), 'j1.1.started')
    await sink.emit(finished('j1', 'success'), 'j1.1.finished')
    // A retry after a lost reply emits the same steps again.
    await sink.emit(started('j1'), 'j1.1.started')
    await sink.emit(finished('j1', 'success'), 'j1.1.finished')
    await sink.emit(finished('j2', 'failure'), 'j2.1.finished')
    const all = await scrape()
    const ezra = { house: 'ezra', tool: 'git_status' }
    expect(valueOf(all, 'uw_jobs_finished_total', { ...ezra, state: 'success' })).toBe(1)
    expect(valueOf(all, 'uw_jobs_finished_total', { ...ezra, state: 'failure' })).toBe(1)
    expect(valueOf(all, 'uw_job_queue_wait_seconds_count', ezra)).toBe(1)
    expect(valueOf(all, 'uw_job_queue_wait_seconds_sum', ezra)).toBe(1.5)
    // j2 was never started here: its end has no run duration.
    expect(valueOf(all, 'uw_job_run_duration_seconds_count', ezra)).toBe(1)
    expect(emitted).toEqual([
      'j1.1.started',
      'j1.1.finished',
      'j1.1.started',
      'j1.1.finished',
      'j2.1.finished',
    ])
  })

  it('labels houses, tools and states outside the known sets as other', async () => {
    const { sink, scrape } = world()
    await sink.emit(finished('j1', 'success', 'stranger', 'made-up-tool'), 'j1.1.finished')
    await sink.emit(finished('j2', 'exploded', 'ezra', 'git_status'), 'j2.1.finished')
    const all = await scrape()
    expect(valueOf(all, 'uw_jobs_finished_total', { house: 'other', tool: 'other', state: 'success' })).toBe(
      1,
    )
    expect(
      valueOf(all, 'uw_jobs_finished_total', { house: 'ezra', tool: 'git_status', state: 'other' }),
    ).toBe(1)
    expect(JSON.stringify(all)).not.toMatch(/stranger|made-up-tool|exploded/)
  })

  it('counts agent task runs by house, task kind and outcome; tool jobs are not agent runs', async () => {
    const { sink, scrape } = world()
    await sink.emit(finished('a1', 'success', 'ezra', 'agent.ask'), 'a1.1.finished')
    await sink.emit(finished('a2', 'failure', 'ezra', 'agent.ask'), 'a2.1.finished')
    await sink.emit(finished('t1', 'success'), 't1.1.finished')
    const all = await scrape()
    expect(valueOf(all, 'uw_agent_runs_total', { house: 'ezra', task: 'ask', outcome: 'success' })).toBe(1)
    expect(valueOf(all, 'uw_agent_runs_total', { house: 'ezra', task: 'ask', outcome: 'failure' })).toBe(1)
    expect(all.filter((s) => s.name === 'uw_agent_runs_total')).toHaveLength(2)
  })
})
