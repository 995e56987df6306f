import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Harness, Mode } from '../../src/harness/index.js'
import {
  decayOf,
  DEFAULT_INTELLIGENCE,
  MemoryPatternStore,
  type PatternStore,
} from '../../src/intelligence/index.js'
import { renderAck } from '../../src/report/render.js'
import { verifyResultComment } from '../../src/report/check-result-comment.js'
import { echo } from './test-tools.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A pattern store that records every use of it, whatever its methods are called. */
function watchedStore(): { store: PatternStore; used: string[] } {
  const used: string[] = []
  const inner = new MemoryPatternStore(decayOf(DEFAULT_INTELLIGENCE))
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown
      if (typeof v !== 'function') return v
      return (...args: unknown[]) => {
        used.push(String(key))
        return (v as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { store, used }
}

/** A harness of house bezalel (sovereign: alice), its stress switchable, its pattern store watched. */
function world(mode: Mode) {
  const dir = mkdtempSync(join(tmpdir(), 'uw-stress-'))
  dirs.push(dir)
  const stress = { reason: undefined as string | undefined, asked: 0 }
  const { store, used } = watchedStore()
  const harness = new Harness({
    house: 'bezalel',
    mode,
    tools: [echo],
    keyDir: join(dir, 'keys'),
    auditPath: join(dir, 'audit.jsonl'),
    config: { houses: { bezalel: { sovereigns: ['alice'] } } },
    stores: { patterns: store },
    sign: true,
    stress: {
      degraded: () => {
        stress.asked++
        return stress.reason
      },
    },
  })
  return { harness, stress, used }
}

const LAG = 'event-loop lag 240 ms > 200 ms'
const job = { id: 'j0123456789ab', runId: 'j0123456789ab' }

describe('INTELLIGENT under stress', () => {
  it('runs exactly as SIMPLE (no prediction read, no outcome written) and says why, signed', async () => {
    const w = world(Mode.INTELLIGENT)
    w.stress.reason = LAG
    const r = await w.harness.execute('echo', { text: 'hi' }, { requestedBy: 'bob', job })
    expect(r.status).toBe('success')
    expect(r.output).toBe('hi')
    expect(r.mode).toBe('simple')
    expect(r.degraded).toEqual({ from: 'intelligent', reason: LAG })
    expect(r.prediction).toBeUndefined()
    expect(w.used).toEqual([])
    const p = r.provenance.statement.predicate
    expect(p.mode).toBe('simple')
    expect(p.degraded).toEqual({ from: 'intelligent', reason: LAG })
    expect(r.provenance.envelope).toBeDefined()
  })

  it('shows the degradation in the result comment, which still checks against its statement', async () => {
    const w = world(Mode.INTELLIGENT)
    w.stress.reason = LAG
    const r = await w.harness.execute('echo', { text: 'hi' }, { requestedBy: 'bob', job })
    const body = renderAck(
      {
        jobId: job.id,
        house: 'bezalel',
        tool: 'echo',
        houseReason: undefined,
        requester: 'bob',
        mode: 'INTELLIGENT',
        dryRun: false,
      },
      {
        state: 'success',
        reason: undefined,
        output: r.output,
        statement: r.provenance.statement,
        envelope: r.provenance.envelope,
      },
    )
    expect(body).toContain('· mode INTELLIGENT → SIMPLE (degraded: event\\-loop lag 240 ms \\> 200 ms)')
    expect(body).toContain('- mode: simple (degraded from intelligent: event\\-loop lag 240 ms \\> 200 ms)')
    const keys = [w.harness.keys.get('bezalel').publicKey]
    expect(verifyResultComment(body, keys)).toMatchObject({ ok: true })
    // A comment claiming the run was not degraded does not check.
    const claimed = body.replace(/ · mode INTELLIGENT → SIMPLE \(degraded: [^)]*\)/, ' · mode INTELLIGENT')
    expect(claimed).not.toBe(body)
    expect(verifyResultComment(claimed, keys)).toMatchObject({ ok: false, field: 'mode' })
  })

  it('runs INTELLIGENT again once the stress has passed: predicts, then learns', async () => {
    const w = world(Mode.INTELLIGENT)
    w.stress.reason = LAG
    await w.harness.execute('echo', {}, { requestedBy: 'bob' })
    w.stress.reason = undefined
    const r = await w.harness.execute('echo', {}, { requestedBy: 'bob' })
    expect(r.mode).toBe('intelligent')
    expect(r.degraded).toBeUndefined()
    expect(r.provenance.statement.predicate.degraded).toBeUndefined()
    expect(r.prediction?.samples).toBe(0) // the degraded run taught it nothing
    expect(w.used.length).toBeGreaterThanOrEqual(2) // read before, written after
    expect((await w.harness.predict('echo', {})).samples).toBe(1)
  })
})

describe.each([Mode.SOVEREIGN, Mode.SIMPLE])('%s under stress', (mode) => {
  it('is not affected: the stress is not even asked', async () => {
    const w = world(mode)
    w.stress.reason = LAG
    const approval =
      mode === Mode.SOVEREIGN
        ? w.harness.approve('echo', { text: 'hi' }, { approver: 'alice', job })
        : undefined
    const r = await w.harness.execute('echo', { text: 'hi' }, { requestedBy: 'bob', job, approval })
    expect(r.status).toBe('success')
    expect(r.mode).toBe(mode)
    expect(r.degraded).toBeUndefined()
    expect(r.provenance.statement.predicate).not.toHaveProperty('degraded')
    expect(w.stress.asked).toBe(0)
    expect(w.used).toEqual([])
  })
})
