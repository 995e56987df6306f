import { z } from 'zod'
import { CommandsConfig } from '../commands-core/commands-config.js'
import { DaemonConfig } from './daemon-config.js'
import { HarnessConfig } from '../houses/harness-config.js'
import { resolveHouses } from '../houses/house-policy.js'
import { AgentsConfig, routingProblems } from '../houses/house-for-task.js'
import { ToolsConfig } from '../tools/tools-config.js'
import { TriageConfig } from '../triage/triage-config.js'
import { TelemetryConfig } from '../telemetry/telemetry-config.js'
import { AlertsConfig } from '../alerts/alerts-config.js'
import { DashboardConfig } from '../dashboard/dashboard-config.js'
import { RedisConfig } from '../queue/redis-config.js'

/**
 * The optional YAML file at `UW_CONFIG`. Each top-level key is one section, owned by the module
 * that uses it; unknown keys are rejected so typos do not silently fall back to defaults.
 */
export const FileConfig = z
  .object({
    /** Log effects instead of applying them to Gitea. */
    dryRun: z.boolean().default(false),
    /** Seconds an accepted delivery id is remembered for dedupe. */
    dedupeTtlSeconds: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3600),
    /** Max webhook body size in bytes. */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(5 * 1024 * 1024),
    /** Slash-command limits (src/commands-core/commands-config.ts). */
    commands: CommandsConfig.prefault({}),
    /** Router, house workers and reporter (src/config/daemon-config.ts). */
    daemon: DaemonConfig.prefault({}),
    /** Harness sections: houses, breaker, retry, output cap, key dir, audit path. */
    ...HarnessConfig.shape,
    /** Tool settings: allowlists, endpoints, caps, custom tools (src/tools/tools-config.ts). */
    toolSettings: ToolsConfig.prefault({}),
    /** Automatic triage of new issues and pull requests (src/triage/triage-config.ts). */
    triage: TriageConfig.prefault({}),
    /** Which house takes `/ask`, `/implement`, `/review` without `@house` (src/houses/house-for-task.ts). */
    agents: AgentsConfig.prefault({}),
    /** The telemetry stream and its SSE endpoint (src/telemetry/telemetry-config.ts, docs/TELEMETRY.md). */
    telemetry: TelemetryConfig.prefault({}),
    /** The Alertmanager receiver: alerts into Gitea issues (src/alerts/alerts-config.ts); unset: off. */
    alerts: AlertsConfig.optional(),
    /** The operators' web dashboard (src/dashboard/dashboard-config.ts, docs/DASHBOARD.md); off by default. */
    dashboard: DashboardConfig.prefault({}),
    /** Replication the ingress waits for before 202 (src/queue/redis-config.ts, docs/RESILIENCE.md). */
    redis: RedisConfig.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const house = c.daemon.defaultHouse
    const houses = resolveHouses(c.houses)
    const known = Object.keys(houses)
    for (const [task, message] of routingProblems(c.agents.routing, houses))
      ctx.addIssue({ code: 'custom', path: ['agents', 'routing', task], message })
    if (house !== undefined && !known.includes(house))
      ctx.addIssue({
        code: 'custom',
        path: ['daemon', 'defaultHouse'],
        message: `unknown house ${JSON.stringify(house)}; configured houses: ${known.join(', ')}`,
      })
  })
export type FileConfig = z.infer<typeof FileConfig>
