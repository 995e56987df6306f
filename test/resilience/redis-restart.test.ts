// Redis restarted: a burst of 500 distinct signed deliveries while the Redis behind the real ingress
// (AOF on) is stopped and started again on the same port and directory. Every delivery answered 202
// must be handled exactly once; every one answered 503 must be absent and not marked as seen, so
// its redelivery is accepted (none half-done); no other status may appear.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfig } from '../../src/config/index.js'
import { startLoop, type RunningLoop } from '../../src/daemon/start-loop.js'
import { startGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { createLogger } from '../../src/logger.js'
import { EVENTS_QUEUE } from '../../src/queue/events-producer.js'
import {
  BOT_LOGIN,
  commentDelivery,
  SECRET,
  startIngressRig,
  type Answer,
  type IngressRig,
} from './ingress-rig.js'
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
 * How many times each delivery was handled. A swappable step: `rig.jobsByDelivery()` alone counts
 * jobs in the events queue (the ingress's half); `routerConsumer` runs the real router
 * over the events queue against the Gitea double and counts each delivery's visible effect, its
 * ack comment (one per `/run`, keyed by delivery and comment), so "handled exactly once" holds end
 * to end. Nothing else in this test changes with the consumer.
 */
interface Consumer {
  /** The comment id each delivery's command points at (comments the consumer's Gitea knows). */
  commentIds: readonly number[]
  count(rig: IngressRig): Promise<Map<string, number>>
  close(): Promise<void>
}

/** The router of `serve` (no reporter, no workers) on the rig's Redis, against the Gitea double. */
async function routerConsumer(): Promise<Consumer> {
  const gitea = await startGiteaDouble({ port: 0 })
  const d = gitea.double
  const bot = d.createUser({ login: BOT_LOGIN })
  for (const login of ['alice', 'bob']) d.createUser({ login })
  const repo = d.createRepo({ owner: 'alice', name: 'demo' })
  d.addCollaborator(repo, BOT_LOGIN, 'admin')
  d.addCollaborator(repo, 'bob', 'write')
  d.createIssue(repo, { title: 'burst', author: 'bob' }) // #1, the fixture's issue
  const commentIds = Array.from(
    { length: DELIVERIES },
    (_, i) =>
      d.createComment(repo, 1, { author: 'bob', body: `/run git_status @bezalel\n\ndelivery ${i}` }).id,
  )
  const dir = mkdtempSync(join(tmpdir(), 'uw-rr-'))
  let started: { loop: RunningLoop; events: Queue; connection: Redis } | undefined
  const start = async (rig: IngressRig) => {
    const configFile = join(dir, 'uw.yaml')
    // The 500 deliveries come from one user: lift the per-user and per-issue command limits.
    const limit = { limit: 10_000, windowSeconds: 60 }
    writeFileSync(
      configFile,
      stringify({
        keys: { dir: join(dir, 'keys') },
        commands: { rateLimit: { perUser: limit, perIssue: limit } },
      }),
    )
    const redisUrl = rig.redis().url
    const config = loadConfig({
      WEBHOOK_SECRET: SECRET,
      UW_CONFIG: configFile,
      UW_DATA_DIR: dir,
      REDIS_URL: redisUrl,
    })
    const loop = await startLoop({
      config,
      log: createLogger({ level: 'silent' }),
      redisUrl,
      port: new GiteaJsAdapter({ baseUrl: gitea.url, token: bot.token }),
      botLogin: BOT_LOGIN,
      pieces: { router: true, reporter: false, workers: [] },
      prefix: rig.prefix,
    })
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: 3 })
    const events = new Queue(EVENTS_QUEUE, { connection, prefix: rig.prefix })
    started = { loop, events, connection }
    return started
  }
  return {
    async count(rig) {
      const s = started ?? (await start(rig))
      // Drained: nothing waiting, running or waiting for a retry.
      for (let idle = 0; idle < 3;) {
        const c = await s.events.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
        idle = Object.values(c).every((n) => n === 0) ? idle + 1 : 0
        await delay(50)
      }
      const failed = await s.events.getJobCounts('failed')
      if ((failed.failed ?? 0) > 0) {
        const [j] = await s.events.getFailed(0, 0)
        throw new Error(`${failed.failed} events failed in the router: ${j?.failedReason}`)
      }
      const counts = new Map<string, number>()
      for (const c of d.comments(repo, 1)) {
        const m = /<!-- uw:key=c:(.+?):\d+:ack_0 -->/.exec(c.body)
        if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1)
      }
      return counts
    },
    commentIds,
    async close() {
      if (started) {
        await started.loop.stop()
        await started.events.close()
        started.connection.disconnect()
      }
      await gitea.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let rig: IngressRig
let consumer: Consumer
beforeEach(async () => {
  rig = await startIngressRig({ maxSockets: LANES })
  consumer = await routerConsumer()
})
afterEach(async () => {
  await consumer?.close()
  await rig?.close()
})

describe('redis restarted during a burst', () => {
  // SIGTERM is a clean restart; SIGKILL a crash of the Redis process (not of the machine: AOF
  // writes reach the OS before Redis answers, so only a power loss could cost the last second).
  it.each(['SIGTERM', 'SIGKILL'] as const)(
    '%s: handles every 202 exactly once and leaves every 503 undone, ready for redelivery',
    async (signal) => {
      const ids = Array.from({ length: DELIVERIES }, (_, i) => `rr-${i}`)
      const deliveries = ids.map((id, i) => commentDelivery(id, i, consumer.commentIds[i]))
      const answers: Answer[] = new Array<Answer>(DELIVERIES)
      let answered = 0
      let restart: Promise<void> | undefined
      let restartMs = 0
      let answeredWhenBack = DELIVERIES

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
              answeredWhenBack = answered
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
      const handledBefore = await consumer.count(rig)
      const halfDone: string[] = []
      for (const id of refused)
        if ((handledBefore.get(id) ?? 0) > 0 || (await rig.seen(id))) halfDone.push(id)

      // Redeliver the refused ones, as an operator would from Gitea's delivery list.
      const redelivery: Answer[] = []
      for (const id of refused) {
        const d = deliveries[ids.indexOf(id)]!
        redelivery.push(await rig.post(d.headers, d.body))
      }
      const handled = await consumer.count(rig)
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
          answeredWhenBack,
          statuses: Object.entries(statuses)
            .map(([k, v]) => `${k}:${v}`)
            .join(','),
        },
      )
      expect(other, line).toBe(0)
      expect(halfDone, line).toEqual([])
      expect({ duplicates, lost }, line).toEqual({ duplicates: 0, lost: 0 })
      // The restart really met the burst, and the ingress recovered within it.
      // (Usually some get 503; when every request sent while Redis was down waited for it within
      // the enqueue deadline, none does, so the check is that the burst outlived the restart.)
      expect(answeredWhenBack, line).toBeLessThan(DELIVERIES)
      expect(ok.length, line).toBeGreaterThan(RESTART_AFTER)
      expect(redelivery.map((a) => a.status)).toEqual(refused.map(() => 202))
      // Nothing else in the queue: exactly the accepted deliveries.
      expect([...handled.keys()].filter((id) => id.startsWith('rr-')).sort()).toEqual(
        [...everyAccepted].sort(),
      )
    },
  )
})
