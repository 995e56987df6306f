// Redis restarted: a burst of 500 distinct signed deliveries while the Redis behind the real ingress
// (AOF on) is stopped and started again on the same port and directory. Every delivery answered 202
// must be handled exactly once; every one answered 503 must be absent and not marked as seen, so
// its redelivery is accepted (none half-done); no other status may appear.
import { setTimeout as delay } from 'node:timers/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { commentDelivery, startIngressRig, type Answer, type IngressRig } from './ingress-rig.js'
import { reportSummary } from './summary.js'

const DELIVERIES = 500
const LANES = 10
/** Pause per lane between requests, so the burst lasts about two seconds and spans the restart. */
const PACE_MS = 40
/** The restart starts once this many answers are in. */
const RESTART_AFTER = 150
/** Redis stays down at least this long, so the burst is sure to meet it. */
const DOWN_MS = 300

/**
 * How many times each delivery was handled. Today "handled" means "is a job in the events queue";
 * when the router lands, swap in a consumer that runs it against the events queue (and the Gitea
 * double) and counts the events it handled per delivery id, e.g. one ack comment per delivery.
 * Nothing else in this test changes.
 */
type Consumer = (rig: IngressRig, deliveryIds: readonly string[]) => Promise<Map<string, number>>

const countJobsInEventsQueue: Consumer = async (rig) => rig.jobsByDelivery()

const consume: Consumer = countJobsInEventsQueue

let rig: IngressRig
beforeEach(async () => {
  rig = await startIngressRig({ maxSockets: LANES })
})
afterEach(async () => {
  await rig?.close()
})

describe('redis restarted during a burst', () => {
  // SIGTERM is a clean restart; SIGKILL a crash of the Redis process (not of the machine: AOF
  // writes reach the OS before Redis answers, so only a power loss could cost the last second).
  it.each(['SIGTERM', 'SIGKILL'] as const)(
    '%s: handles every 202 exactly once and leaves every 503 undone, ready for redelivery',
    async (signal) => {
      const ids = Array.from({ length: DELIVERIES }, (_, i) => `rr-${i}`)
      const deliveries = ids.map((id, i) => commentDelivery(id, i))
      const answers: Answer[] = new Array<Answer>(DELIVERIES)
      let answered = 0
      let restart: Promise<void> | undefined
      let restartMs = 0

      let next = 0
      const lanes = Array.from({ length: LANES }, async () => {
        while (next < DELIVERIES) {
          const i = next++
          const d = deliveries[i]!
          answers[i] = await rig.post(d.headers, d.body)
          answered++
          if (answered === RESTART_AFTER && !restart) {
            restart = (async () => {
              const t0 = Date.now()
              await rig.stopRedis(signal)
              await delay(DOWN_MS)
              await rig.startRedis()
              restartMs = Date.now() - t0
            })()
          }
          await delay(PACE_MS)
        }
      })
      await Promise.all(lanes)
      await restart

      const statuses: Record<string, number> = {}
      for (const a of answers) {
        const key = 'error' in a ? `socket:${a.error}` : String(a.status)
        statuses[key] = (statuses[key] ?? 0) + 1
      }
      const ok = ids.filter((_, i) => answers[i]!.status === 202)
      const refused = ids.filter((_, i) => answers[i]!.status === 503)
      const other = DELIVERIES - ok.length - refused.length

      // Before any redelivery: a 503 left nothing behind, not even the seen-mark.
      const handledBefore = await consume(rig, ids)
      const halfDone: string[] = []
      for (const id of refused)
        if ((handledBefore.get(id) ?? 0) > 0 || (await rig.seen(id))) halfDone.push(id)

      // Redeliver the refused ones, as an operator would from Gitea's delivery list.
      const redelivery: Answer[] = []
      for (const id of refused) {
        const d = deliveries[ids.indexOf(id)]!
        redelivery.push(await rig.post(d.headers, d.body))
      }
      const handled = await consume(rig, ids)
      const everyAccepted = [...ok, ...refused.filter((_, k) => redelivery[k]!.status === 202)]
      const duplicates = everyAccepted.filter((id) => (handled.get(id) ?? 0) > 1).length
      const lost = everyAccepted.filter((id) => (handled.get(id) ?? 0) === 0).length

      const line = reportSummary(
        `redis-restart-${signal.toLowerCase()}`,
        {
          sent: DELIVERIES,
          acknowledged: ok.length,
          handled: ok.filter((id) => handled.has(id)).length,
          duplicates,
          lost,
        },
        {
          refused503: refused.length,
          otherStatus: other,
          halfDone: halfDone.length,
          redelivered202: redelivery.filter((a) => a.status === 202).length,
          restartMs,
          statuses: Object.entries(statuses)
            .map(([k, v]) => `${k}:${v}`)
            .join(','),
        },
      )
      expect(other, line).toBe(0)
      expect(halfDone, line).toEqual([])
      expect({ duplicates, lost }, line).toEqual({ duplicates: 0, lost: 0 })
      // The restart really met the burst, and the ingress recovered within it.
      expect(refused.length, line).toBeGreaterThan(0)
      expect(ok.length, line).toBeGreaterThan(RESTART_AFTER)
      expect(redelivery.map((a) => a.status)).toEqual(refused.map(() => 202))
      // Nothing else in the queue: exactly the accepted deliveries.
      expect([...handled.keys()].filter((id) => id.startsWith('rr-')).sort()).toEqual(
        [...everyAccepted].sort(),
      )
    },
  )
})
