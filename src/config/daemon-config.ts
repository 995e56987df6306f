import { z } from 'zod'
import { StressConfig } from '../stress/stress-config.js'

/**
 * The `daemon` section of the YAML config: how the router, house workers and reporter run.
 *
 * Lock and stall settings decide how fast a job held by a dead worker (SIGKILL, lost machine)
 * is taken over: a live worker renews its lock every `lockDurationMs / 2`; every
 * `stalledIntervalMs` each worker looks for active jobs whose lock expired and moves them back
 * to wait. Takeover therefore happens between `lockDurationMs` and `lockDurationMs +
 * stalledIntervalMs` after the death. Shorter is faster but a worker whose event loop is blocked
 * longer than the lock (a huge synchronous step, a GC pause under memory pressure) loses its job
 * to another worker while still running it; see docs/OPERATIONS.md.
 *
 * @example
 *   # uw.yaml
 *   daemon:
 *     defaultHouse: ezra
 *     workers: { lockDurationMs: 2000, stalledIntervalMs: 500 }
 *     reporter: { attempts: 200, maxBackoffMs: 300000 }
 */
/**
 * The locks of the router's events and the reporter's reports. Longer than a house job's: what
 * they do is keyed (safe to repeat, not to run twice at once), so they should outlast a Redis
 * failover (a few seconds behind Sentinel) and an event-loop stall rather than be taken over in
 * the middle; a dead router's events are still taken over within about 12 s (the design asks for
 * routing taken over within 30 s).
 */
const keyedWorkLocks = {
  /** An event's or report's lock; renewed every half of it. */
  lockDurationMs: z.number().int().min(1000).default(10_000),
  /** How often the router (reporter) looks for events (reports) whose lock expired. */
  stalledIntervalMs: z.number().int().min(500).default(2_000),
}

export const DaemonConfig = z
  .object({
    /** The house `/run` uses when neither `@house` nor a `house/*` label names one (if it allows the tool). */
    defaultHouse: z.string().min(1).optional(),
    router: z
      .object({
        /** Events handled at once per router process. */
        concurrency: z.number().int().min(1).max(256).default(16),
        /** First retry delay of an event whose handlers failed transiently (Gitea or Redis away). */
        backoffMs: z.number().int().min(10).default(1000),
        /** Cap of the doubling retry delay; with 200 attempts per event, 5 min outlasts ~16 h of outage. */
        maxBackoffMs: z.number().int().min(10).default(300_000),
        ...keyedWorkLocks,
      })
      .strict()
      .prefault({}),
    workers: z
      .object({
        /**
         * A job's lock; renewed every half of it while the worker is alive. With the defaults a
         * dead worker's job is back on the queue 1-2.5 s after the death; a live worker whose event
         * loop stalls over ~1 s can lose a job (its result is then fenced: docs/OPERATIONS.md).
         */
        lockDurationMs: z.number().int().min(1000).default(2_000),
        /** How often the house's workers look for jobs whose lock expired (one check per interval per queue). */
        stalledIntervalMs: z.number().int().min(500).default(500),
        /** Takeovers before a job is failed as stalled (a job that kills its workers stops somewhere). */
        maxStalledCount: z.number().int().min(0).max(100).default(2),
        /** Heartbeat period; the key lives three periods. */
        heartbeatMs: z.number().int().min(200).default(5_000),
        /** On SIGTERM, how long running jobs may finish before the worker exits anyway. */
        shutdownGraceMs: z.number().int().min(0).default(30_000),
        /**
         * How long a run must last before its ack comment is edited to "running": faster runs go
         * from "queued" straight to their result, one report and one Gitea edit fewer. 0: at once.
         */
        runningReportDelayMs: z.number().int().min(0).default(1_000),
        /**
         * An agent job's checklist (its ack comment) is edited at most this often while the agent
         * works, so Gitea's API is not flooded; the final comment always has every step.
         */
        agentProgressMs: z.number().int().min(200).default(3_000),
        /**
         * Proof commands named by a repository's `.uni-wizard.yaml` run the checked-out code (on a
         * pull request, its author's) as this worker's user, which can read whatever the worker can:
         * its environment through /proc (the Gitea token), its key files, other checkouts. `off`
         * (default): they are not run, and a proof-required job whose repository names them ends
         * `unverified`, saying why. `same-user`: run them anyway; only where the worker has nothing
         * to lose that way (its own container or VM, a token scoped to what it may do) or every
         * contributor is trusted.
         */
        proofCommands: z.enum(['off', 'same-user']).default('off'),
        /** When INTELLIGENT jobs run as SIMPLE under stress (docs/OPERATIONS.md, "Graceful degradation"). */
        stress: StressConfig.prefault({}),
      })
      .strict()
      .prefault({}),
    /**
     * Per-job checkouts (houses with `workspace: checkout`; docs/CHECKOUTS.md, docs/OPERATIONS.md).
     */
    checkouts: z
      .object({
        /** Mirrors and job checkouts. Default `<UW_DATA_DIR>/checkouts`. */
        dir: z.string().min(1).optional(),
        /** Mirrors past this total size are evicted, least recently used first, by the sweep. */
        diskBudgetBytes: z
          .number()
          .int()
          .min(0)
          .default(5 * 2 ** 30),
        /** A failed job's checkout is kept this long for debugging (0: deleted at once). */
        keepFailedMinutes: z.number().min(0).default(60),
        /**
         * An issue workspace (the checkout the jobs of one issue share, docs/CHECKOUTS.md) no job
         * used for this long is deleted by the sweep, with any work left in it.
         */
        issueWorkspaceIdleHours: z.number().positive().default(72),
        /** How often each worker process sweeps: expired kept checkouts, crash leftovers, eviction. */
        sweepIntervalMs: z
          .number()
          .int()
          .min(1000)
          .default(5 * 60_000),
      })
      .strict()
      .prefault({}),
    /**
     * The health port of a process without the ingress (`uni-wizard worker`, `serve --no-ingress`):
     * `/health`, `/ready`, `/health/details`, `/metrics` (docs/OPERATIONS.md). A process with the
     * ingress serves them on HOST:PORT instead.
     */
    health: z
      .object({
        /** Interface to listen on; loopback by default (the routes need no token). */
        host: z.string().min(1).default('127.0.0.1'),
        /** Port; 0 takes a free one (logged and registered in Redis). `UW_HEALTH_PORT` overrides it. */
        port: z.number().int().min(0).max(65535).default(0),
        /**
         * The URL other machines reach this process's health routes at, registered in Redis for
         * `uni-wizard health`. Default: the listening address (the host name for 0.0.0.0 or ::).
         */
        advertiseUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** Upper bound on each dependency check of `/ready` and `/health/details`. */
        checkTimeoutMs: z.number().int().min(100).default(2_000),
      })
      .strict()
      .prefault({}),
    reporter: z
      .object({
        /** Attempts per report before it is kept as failed (with the defaults: about 16 hours). */
        attempts: z.number().int().min(1).default(200),
        /** First retry delay; doubles per attempt up to `maxBackoffMs`. */
        backoffMs: z.number().int().min(10).default(1_000),
        maxBackoffMs: z
          .number()
          .int()
          .min(10)
          .default(5 * 60_000),
        concurrency: z.number().int().min(1).max(256).default(8),
        /** Output characters shown in the result comment. */
        outputCap: z.number().int().min(100).default(50_000),
        ...keyedWorkLocks,
      })
      .strict()
      .prefault({}),
  })
  .strict()
export type DaemonConfig = z.infer<typeof DaemonConfig>
