import { z } from 'zod'

/**
 * The `redis:` section: how much of Redis's replication the ingress waits for. Replication is
 * asynchronous, so a delivery answered 202 may exist only on the primary; if the primary dies
 * before its replica has it, a failover loses it. With `waitReplicas`, the ingress sends Redis's
 * `WAIT` after each enqueue and answers 202 only once that many replicas confirmed the write,
 * else 503 (Gitea's redelivery is then deduplicated if the write survived). The house workers
 * use it too: a tool runs only once its run's start is on that many replicas, and a job is
 * completed only once its run's end is (`ReplicaWait`), and the router posts a comment only once
 * its claim in the effect ledger is. See docs/OPERATIONS.md.
 *
 * @example
 *   redis:
 *     waitReplicas: 1
 *     waitTimeoutMs: 500
 */
export const RedisConfig = z
  .object({
    /** Replicas that must confirm each accepted delivery before 202; 0 answers without waiting. */
    waitReplicas: z.number().int().min(0).max(16).default(0),
    /** How long to wait for them; part of the enqueue's 2 s deadline, so at most 1500. */
    waitTimeoutMs: z.number().int().positive().max(1500).default(500),
  })
  .strict()
export type RedisConfig = z.infer<typeof RedisConfig>
