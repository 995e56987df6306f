// Ingress fuzz: 10,000 mutated deliveries against the real HTTP ingress and a real Redis, in three
// phases: unsigned/badly signed only (the key space must not change at all), a mixed phase with
// signature-valid hostile payloads and replays, and a phase with Redis stopped (503 is then the
// only 5xx allowed, and what was refused is accepted on redelivery). Replay a failure with
// UW_FUZZ_SEED=<seed printed in the summary line>.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commentDelivery, pool, startIngressRig, type Answer, type IngressRig } from './ingress-rig.js'
import { mutations, type Mutation } from './ingress-mutations.js'
import { fuzzSeed, reportSummary, seededRandom } from './summary.js'

const UNSIGNED_PHASE = 2_500
const MIXED_PHASE = 6_500
const REDIS_DOWN_PHASE = 1_000
const CONCURRENCY = 32

const seed = fuzzSeed()
const rnd = seededRandom(seed)

let rig: IngressRig
beforeAll(async () => {
  rig = await startIngressRig({ maxSockets: CONCURRENCY })
})
afterAll(async () => {
  await rig?.close()
})

interface Sent {
  m: Mutation
  answer: Answer
  phase: 'unsigned' | 'mixed' | 'redis-down' | 'redelivery'
}

const statusOf = (a: Answer) => ('error' in a ? `socket:${a.error}` : String(a.status))

describe('ingress fuzz', () => {
  it('survives 10,000 mutated deliveries: no crash, no 5xx but 503 while Redis is down, no side effect without a signature', async () => {
    const started = Date.now()
    const sent: Sent[] = []
    const problems: string[] = []
    const problem = (s: Sent, why: string) => {
      if (problems.length < 10)
        problems.push(
          `${why}: ${s.m.kind} in phase ${s.phase} ${statusOf(s.answer)} ${'text' in s.answer ? s.answer.text.slice(0, 160) : ''}`,
        )
    }

    // Warm up: one accepted delivery, so the queue's own keys exist before the snapshot.
    const warm = commentDelivery('warmup-0', 0)
    expect((await rig.post(warm.headers, warm.body)).status).toBe(202)

    // Phase 1: nothing signed. The key space (queue, dedupe keys, everything) must not move.
    const gen1 = mutations(rnd, 'p1')
    const keysBefore = await rig.keys()
    const phase1 = await pool(CONCURRENCY, UNSIGNED_PHASE, async () => {
      const m = gen1.unsigned()
      const answer = await rig.post(m.headers, m.body, { chunked: m.chunked })
      return { m, answer, phase: 'unsigned' as const }
    })
    sent.push(...phase1)
    expect(await rig.keys()).toEqual(keysBefore)

    // Phase 2: hostile signed payloads, unsigned ones and replays of accepted ones, interleaved.
    const gen2 = mutations(rnd, 'p2')
    const accepted: Mutation[] = []
    const phase2 = await pool(CONCURRENCY, MIXED_PHASE, async () => {
      const r = rnd()
      const replay =
        r < 0.1 && accepted.length > 0 ? accepted[Math.floor(rnd() * accepted.length)] : undefined
      const m = replay ? { ...replay, kind: 'replay' } : r < 0.65 ? gen2.hostile() : gen2.unsigned()
      const answer = await rig.post(m.headers, m.body, { chunked: m.chunked })
      if (!replay && answer.status === 202) accepted.push(m)
      return { m, answer, phase: 'mixed' as const }
    })
    sent.push(...phase2)

    // Phase 3: Redis stopped. Signed, valid deliveries get 503; nothing is answered 202.
    await rig.stopRedis()
    const gen3 = mutations(rnd, 'p3')
    const phase3 = await pool(CONCURRENCY, REDIS_DOWN_PHASE, async (i) => {
      const m =
        i % 4 === 0
          ? {
              ...commentDelivery(`ok-p3-valid-${i}`, i),
              kind: 'valid',
              signed: true,
              deliveryId: `ok-p3-valid-${i}`,
              chunked: false,
            }
          : rnd() < 0.5
            ? gen3.hostile()
            : gen3.unsigned()
      const answer = await rig.post(m.headers, m.body, { chunked: m.chunked })
      return { m, answer, phase: 'redis-down' as const }
    })
    sent.push(...phase3)
    await rig.startRedis()

    // Every delivery refused with 503 is accepted when Gitea (or an operator) redelivers it.
    const refused = phase3.filter((s) => s.answer.status === 503)
    let redelivered: Sent[] = []
    for (let attempt = 0; attempt < 50; attempt++) {
      // The producer reconnects with backoff; wait for the first 202 before the real redelivery.
      const probe = await rig.post(warm.headers, warm.body)
      if (probe.status === 200) break
      await new Promise((r) => setTimeout(r, 100))
    }
    redelivered = await pool(CONCURRENCY, refused.length, async (i) => {
      const m = refused[i]!.m
      return {
        m,
        answer: await rig.post(m.headers, m.body, { chunked: m.chunked }),
        phase: 'redelivery' as const,
      }
    })

    // Judge every answer.
    const statuses: Record<string, number> = {}
    for (const s of [...sent, ...redelivered]) {
      const st = statusOf(s.answer)
      statuses[st] = (statuses[st] ?? 0) + 1
      if (s.answer.status === 0) problem(s, 'no answer')
      else if (s.answer.status >= 500 && !(s.answer.status === 503 && s.phase === 'redis-down'))
        problem(s, '5xx')
      if (!s.m.signed && s.answer.status >= 200 && s.answer.status < 300)
        problem(s, 'unsigned input acknowledged')
      if (s.phase === 'redis-down' && s.answer.status === 202) problem(s, '202 while Redis was down')
      if (s.m.kind === 'replay' && !(s.answer.status === 200 && s.answer.text.includes('"duplicate":true')))
        problem(s, 'replay not answered as a duplicate')
      if (s.phase === 'redelivery' && s.answer.status !== 202)
        problem(s, 'a refused delivery was not accepted on redelivery')
      if (s.phase === 'redis-down' && s.m.kind === 'valid' && s.answer.status !== 503)
        problem(s, 'valid delivery not refused with 503')
    }

    // Side effects: accepted exactly once; everything else absent and not marked seen.
    const jobs = await rig.jobsByDelivery()
    const acceptedIds = new Set(
      [...sent, ...redelivered].filter((s) => s.answer.status === 202).map((s) => s.m.deliveryId as string),
    )
    let handled = 0
    let duplicates = 0
    let lost = 0
    for (const id of acceptedIds) {
      const n = jobs.get(id) ?? 0
      if (n >= 1) handled++
      if (n > 1) duplicates++
      if (n === 0) lost++
    }
    let sideEffects = 0
    for (const s of sent) {
      const id = s.m.deliveryId
      if (!id || acceptedIds.has(id)) continue
      if ((jobs.get(id) ?? 0) > 0 || (await rig.seen(id))) {
        sideEffects++
        problem(s, `delivery ${id} left a job or a seen-mark without a 202`)
      }
    }
    const badKeys = (await rig.keys()).filter((k) => k.includes(':de:bad-'))
    const health = await rig.get('/health')
    const polluted = ({} as Record<string, unknown>).polluted !== undefined

    const acknowledged = [...sent, ...redelivered].filter(
      (s) => s.answer.status >= 200 && s.answer.status < 300,
    ).length
    const line = reportSummary(
      'ingress-fuzz',
      { sent: sent.length + redelivered.length, acknowledged, handled, duplicates, lost },
      {
        seed,
        accepted202: acceptedIds.size,
        refused503: refused.length,
        redelivered202: redelivered.filter((s) => s.answer.status === 202).length,
        sideEffectsWithout202: sideEffects,
        resentOnReusedSocket: rig.resentOnReusedSocket(),
        statuses: Object.entries(statuses)
          .sort()
          .map(([k, v]) => `${k}:${v}`)
          .join(','),
        seconds: ((Date.now() - started) / 1000).toFixed(1),
      },
    )
    expect(problems, line).toEqual([])
    expect(sent.length).toBe(UNSIGNED_PHASE + MIXED_PHASE + REDIS_DOWN_PHASE)
    expect({ lost, duplicates, sideEffects, badKeys, polluted }).toEqual({
      lost: 0,
      duplicates: 0,
      sideEffects: 0,
      badKeys: [],
      polluted: false,
    })
    expect(refused.length).toBeGreaterThanOrEqual(REDIS_DOWN_PHASE / 4)
    expect(health.status).toBe(200)
  })
})
