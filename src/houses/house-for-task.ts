import { z } from 'zod'
import type { HouseRole } from './agent-config.js'

import type { AgentTaskKind } from '../agents/task-kind.js'

export type { AgentTaskKind } from '../agents/task-kind.js'

/** The role that takes each task when no `@house` is named (the design's division of work). */
export const ROLE_FOR_TASK: Record<AgentTaskKind, HouseRole> = {
  ask: 'archivist',
  implement: 'artificer',
  review: 'sovereign',
}

/** Why that role, in words for the ack. */
const ROLE_DOES: Record<AgentTaskKind, string> = {
  ask: 'archivist answers questions',
  implement: 'artificer implements',
  review: 'sovereign reviews',
}

const HouseName = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a lowercase house name')

/**
 * The `agents:` section. `routing` names the house a task goes to when the command names none,
 * instead of choosing by role; the house must exist, and for `implement` must not be read-only
 * (checked with the houses, in FileConfig).
 */
export const AgentsConfig = z
  .object({
    routing: z
      .object({ ask: HouseName.optional(), implement: HouseName.optional(), review: HouseName.optional() })
      .strict()
      .prefault({}),
  })
  .strict()
export type AgentsConfig = z.infer<typeof AgentsConfig>

/** What routing needs to know of a house (a `HousePolicy` has it). */
export interface RoutableHouse {
  name: string
  readOnly: boolean
  role?: HouseRole
  priority?: number
  /** Present when the house has an agent; its content does not matter here. */
  agent?: unknown
}

/** The chosen house and why, or why none could be chosen. */
export type HouseChoice =
  | {
      house: string
      reason: string
      /**
       * Chosen by role: every house of the role that can take the task, in this order (the chosen
       * first), and the role's reason alone; routing by prediction chooses among them.
       */
      byRole?: { candidates: string[]; reason: string }
    }
  | { house: undefined; reason: string }

/**
 * Problems with `agents.routing` against the configured houses, as `[task, message]` pairs.
 *
 * @example
 *   routingProblems({ ask: 'ezar' }, resolveHouses()) // [['ask', 'unknown house "ezar"; ...']]
 */
export function routingProblems(
  routing: AgentsConfig['routing'],
  houses: Readonly<Record<string, RoutableHouse>>,
): [AgentTaskKind, string][] {
  const problems: [AgentTaskKind, string][] = []
  for (const task of ['ask', 'implement', 'review'] as const) {
    const name = routing[task]
    if (name === undefined) continue
    const house = houses[name]
    if (!house)
      problems.push([
        task,
        `unknown house ${JSON.stringify(name)}; configured houses: ${Object.keys(houses).join(', ')}`,
      ])
    else if (task === 'implement' && house.readOnly)
      problems.push([task, `house ${name} is read-only (readOnly: true), so it cannot implement`])
  }
  return problems
}

/**
 * The house a task goes to when the command names none, and why (for the ack): the house
 * `agents.routing` names for the task, else a house of the task's role (ask: archivist,
 * implement: artificer, review: sovereign). Among several of that role, one with an agent comes
 * first, then the lowest `priority`, then the name. Pure: it reads only what it is given.
 *
 * @example
 *   houseForTask('ask', resolveHouses(), {})
 *   // { house: 'ezra', reason: 'by role: archivist answers questions' }
 */
export function houseForTask(
  kind: AgentTaskKind,
  houses: Readonly<Record<string, RoutableHouse>>,
  config: { routing?: AgentsConfig['routing'] } = {},
): HouseChoice {
  const configured = config.routing?.[kind]
  if (configured !== undefined) {
    const house = houses[configured]
    if (house && !(kind === 'implement' && house.readOnly))
      return { house: house.name, reason: `by configuration: agents.routing.${kind} is ${house.name}` }
  }
  const role = ROLE_FOR_TASK[kind]
  const candidates = Object.values(houses)
    .filter((h) => h.role === role && !(kind === 'implement' && h.readOnly))
    .sort(
      (a, b) =>
        Number(b.agent !== undefined) - Number(a.agent !== undefined) ||
        (a.priority ?? Number.MAX_SAFE_INTEGER) - (b.priority ?? Number.MAX_SAFE_INTEGER) ||
        a.name.localeCompare(b.name),
    )
  const chosen = candidates[0]
  if (!chosen)
    return {
      house: undefined,
      reason: `no house has the role ${role}${kind === 'implement' ? ' and may write' : ''}; name one with @house, or set agents.routing.${kind}`,
    }
  const why = `by role: ${ROLE_DOES[kind]}`
  const byRole = { candidates: candidates.map((h) => h.name), reason: why }
  if (candidates.length === 1) return { house: chosen.name, reason: why, byRole }
  const others = candidates.slice(1).map((h) => h.name)
  const tie =
    chosen.agent !== undefined && candidates[1]?.agent === undefined
      ? 'it has an agent'
      : chosen.priority !== undefined && chosen.priority !== candidates[1]?.priority
        ? `its priority ${chosen.priority} comes first`
        : 'first by name'
  return { house: chosen.name, reason: `${why} (before ${others.join(', ')}: ${tie})`, byRole }
}
