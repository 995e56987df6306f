import { z } from 'zod'
import type { HouseLiveness } from '../commands-core/command-spec.js'
import type { CheckState } from './health-checks.js'
import type { InstanceInfo } from './instance-registry.js'

/** What `/health/details` answers; parsed, since it comes from another process over HTTP. */
const Details = z.object({
  ready: z.boolean(),
  /** Shutting down: finishing its running jobs, taking no new work (not ready). */
  draining: z.boolean().optional(),
  checks: z.array(
    z.object({
      name: z.string(),
      ok: z.boolean(),
      latencyMs: z.number(),
      checkedAt: z.string(),
      lastError: z.string().optional(),
      lastErrorAt: z.string().optional(),
      lastOkAt: z.string().optional(),
    }),
  ),
})

/** One registered instance, as its own `/health/details` answered (or why it did not). */
export interface InstanceReport {
  id: string
  pieces: string[]
  houses: string[]
  address?: string
  healthy: boolean
  /** It is shutting down (SIGTERM): finishing its running jobs, taking no new work; not healthy. */
  draining?: true
  checks: CheckState[]
  /** Why the instance could not be asked (no address, no answer, an unreadable answer). */
  error?: string
}

/** One house: its workers' heartbeats and its agent endpoint. */
export interface HouseReport {
  house: string
  /** `true` alive, `false` seen before but no live worker now, `null` never seen (not counted). */
  healthy: boolean | null
  workers: number
  lastSeen?: string
  /** The agent endpoint, as a live instance of the house checked it, or as checked from here. */
  agent?: { ok: boolean; detail?: string; checkedBy: string }
}

export interface HealthReport {
  healthy: boolean
  instances: InstanceReport[]
  houses: HouseReport[]
}

/** What `checkHealth` reads: the registry, heartbeats, instances over HTTP, agent endpoints. */
export interface CheckHealthDeps {
  instances(): Promise<InstanceInfo[]>
  /** The configured houses, and which have an agent. */
  houses: { name: string; agent: boolean }[]
  liveness(house: string): Promise<HouseLiveness>
  /** Checks a house's agent endpoint from this process; throws with the reason. */
  agentHealth(house: string, signal: AbortSignal): Promise<void>
  /** Per request to an instance or agent. Default 3000 ms. */
  timeoutMs?: number
  fetch?: typeof fetch
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

async function askInstance(i: InstanceInfo, deps: CheckHealthDeps): Promise<InstanceReport> {
  const base = { id: i.id, pieces: i.pieces, houses: i.houses, ...(i.address ? { address: i.address } : {}) }
  if (!i.address) return { ...base, healthy: false, checks: [], error: 'registered no address' }
  try {
    const res = await (deps.fetch ?? fetch)(`${i.address}/health/details`, {
      signal: AbortSignal.timeout(deps.timeoutMs ?? 3000),
    })
    const details = Details.safeParse(await res.json())
    if (!details.success)
      return { ...base, healthy: false, checks: [], error: `unreadable answer (HTTP ${res.status})` }
    return {
      ...base,
      healthy: details.data.ready,
      ...(details.data.draining && { draining: true as const }),
      checks: details.data.checks,
    }
  } catch (err) {
    return { ...base, healthy: false, checks: [], error: `no answer: ${reason(err)}` }
  }
}

async function houseReport(
  house: { name: string; agent: boolean },
  instances: InstanceReport[],
  deps: CheckHealthDeps,
): Promise<HouseReport> {
  const live = await deps.liveness(house.name)
  const seen = live.alive || live.lastSeen !== undefined
  const report: HouseReport = {
    house: house.name,
    healthy: live.alive ? true : seen ? false : null,
    workers: live.workers,
    ...(live.lastSeen ? { lastSeen: live.lastSeen } : {}),
  }
  if (!house.agent) return report
  // The house's own worker sees its agent as the agent is meant to be reached (often on loopback).
  const name = `agent:${house.name}`
  for (const i of instances) {
    const c = i.checks.find((s) => s.name === name)
    if (c) {
      report.agent = { ok: c.ok, ...(c.ok ? {} : { detail: c.lastError }), checkedBy: i.id }
      break
    }
  }
  if (!report.agent) {
    try {
      await deps.agentHealth(house.name, AbortSignal.timeout(deps.timeoutMs ?? 3000))
      report.agent = { ok: true, checkedBy: 'here' }
    } catch (err) {
      report.agent = { ok: false, detail: reason(err), checkedBy: 'here' }
    }
  }
  if (!report.agent.ok && report.healthy !== null) report.healthy = false
  return report
}

/**
 * The design's `check_health(target)`: every instance registered in Redis (its `/health/details`)
 * and every house (its workers' heartbeats, its agent endpoint), or only the instance or house
 * named `target`. Healthy when every instance is ready and every house ever seen has a live worker
 * and a healthy agent; a house never seen counts only when it is the target.
 *
 * @example
 *   const report = await checkHealth(deps, 'ezra')
 *   process.exitCode = report.healthy ? 0 : 1
 */
export async function checkHealth(deps: CheckHealthDeps, target?: string): Promise<HealthReport> {
  const registered = await deps.instances()
  const houseOfTarget = target !== undefined && deps.houses.some((h) => h.name === target)
  const wanted = registered.filter(
    (i) => target === undefined || i.id === target || (houseOfTarget && i.houses.includes(target)),
  )
  const instances = await Promise.all(wanted.map((i) => askInstance(i, deps)))
  const houses = await Promise.all(
    deps.houses
      .filter((h) => target === undefined || h.name === target)
      .map((h) => houseReport(h, instances, deps)),
  )
  if (target !== undefined && instances.length === 0 && houses.length === 0)
    throw new Error(
      `no instance or house named "${target}" (houses: ${deps.houses.map((h) => h.name).join(', ')}; instances: ${registered.map((i) => i.id).join(', ') || 'none registered'})`,
    )
  const healthy =
    instances.every((i) => i.healthy) &&
    houses.every((h) => h.healthy !== false && !(houseOfTarget && h.healthy === null))
  return { healthy, instances, houses }
}

/**
 * The report as lines for a terminal.
 *
 * @example
 *   formatHealth(report) // ['instance web:42 (ingress,router,reporter) http://10.0.0.5:3000: ready ...', ...]
 */
export function formatHealth(r: HealthReport): string[] {
  const lines: string[] = []
  for (const i of r.instances) {
    const checks = i.checks
      .map((c) => `${c.name} ${c.ok ? 'ok' : `FAILED (${c.lastError ?? 'failed'})`} ${c.latencyMs} ms`)
      .join(', ')
    const what = `instance ${i.id} (${i.pieces.join(',')}${i.houses.length ? `; houses ${i.houses.join(',')}` : ''})`
    lines.push(
      `${what} ${i.address ?? '-'}: ${i.error ? `UNHEALTHY: ${i.error}` : i.healthy ? 'ready' : i.draining ? 'DRAINING (shutting down, finishing its running jobs)' : 'NOT READY'}${checks ? `: ${checks}` : ''}`,
    )
  }
  if (r.instances.length === 0) lines.push('no instance registered')
  for (const h of r.houses) {
    const state =
      h.healthy === null
        ? 'never seen (no worker has run)'
        : h.workers > 0
          ? `alive (${h.workers} worker${h.workers === 1 ? '' : 's'})`
          : `DOWN: no live worker${h.lastSeen ? `, last seen ${h.lastSeen}` : ''}`
    const agent = h.agent
      ? `; agent ${h.agent.ok ? 'ok' : `FAILED (${h.agent.detail ?? 'failed'})`} (checked by ${h.agent.checkedBy})`
      : ''
    lines.push(`house ${h.house}: ${state}${agent}`)
  }
  lines.push(r.healthy ? 'healthy' : 'UNHEALTHY')
  return lines
}
