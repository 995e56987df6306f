import { isAbsolute, relative, resolve } from 'node:path'
import type { HousePolicy } from './house-policy.js'
import { toolMatches } from './tool-glob.js'

/** Modes from the least to the most checks: INTELLIGENT adds predictions and learned timeouts, SOVEREIGN approvals of every call. */
const MODE_ORDER: Record<HousePolicy['mode'], number> = { simple: 0, intelligent: 1, sovereign: 2 }
/** Which calls need an approval, from none to all. */
const APPROVAL_ORDER: Record<HousePolicy['approvalRequired'], number> = { none: 0, writes: 1, all: 2 }

function inside(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => {
    const rel = relative(resolve(root), resolve(path))
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
  })
}

/**
 * Why `backup` is not as strict as `house` (empty when it is). A backup is as strict or stricter
 * when it can do nothing the house could not, and checks everything the house checks:
 * - every tool of `tools` (the bot's tool names) the backup allows, the house allows;
 * - its mode is the same or later in simple < intelligent < sovereign;
 * - it needs approval for at least the same calls (none < writes < all);
 * - its sovereigns (who may approve) are among the house's;
 * - read-before-write, proof-required and read-only are on when the house has them on;
 *   self-approval is off when the house has it off;
 * - its static workspace roots lie inside the house's (when the house names any).
 *
 * @example
 *   stricterProblems(policies.bezalel, policies.ezra, ['git_push']) // ['mode intelligent ...']
 */
export function stricterProblems(
  house: HousePolicy,
  backup: HousePolicy,
  tools: readonly string[],
): string[] {
  const problems: string[] = []
  const extra = tools.filter((t) => toolMatches(t, backup.tools) && !toolMatches(t, house.tools))
  if (extra.length > 0) problems.push(`it allows tools ${house.name} does not: ${extra.join(', ')}`)
  if (MODE_ORDER[backup.mode] < MODE_ORDER[house.mode])
    problems.push(`its mode ${backup.mode} is less strict than ${house.name}'s ${house.mode}`)
  if (APPROVAL_ORDER[backup.approvalRequired] < APPROVAL_ORDER[house.approvalRequired])
    problems.push(
      `it needs approval for ${backup.approvalRequired} calls, ${house.name} for ${house.approvalRequired}`,
    )
  const newSovereigns = backup.sovereigns.filter((s) => !house.sovereigns.includes(s))
  if (newSovereigns.length > 0)
    problems.push(`its sovereigns ${newSovereigns.join(', ')} may not approve ${house.name}'s jobs`)
  for (const flag of ['readBeforeWrite', 'proofRequired', 'readOnly'] as const)
    if (house[flag] && !backup[flag]) problems.push(`${flag} is off, on for ${house.name}`)
  if (backup.allowSelfApproval && !house.allowSelfApproval)
    problems.push(`allowSelfApproval is on, off for ${house.name}`)
  if (house.workspaceRoots.length > 0) {
    const outside = backup.workspaceRoots.filter((r) => !inside(r, house.workspaceRoots))
    if (outside.length > 0 || backup.workspaceRoots.length === 0)
      problems.push(
        `its workspace roots (${backup.workspaceRoots.join(', ') || 'the default'}) are not inside ${house.name}'s`,
      )
  }
  return problems
}

/**
 * Every problem of the houses' `backup:` settings: an unknown house, the house itself, a cycle,
 * or a backup less strict than its house (`stricterProblems`). Start-up is refused when any.
 *
 * @example
 *   backupProblems(resolveHouses(config.houses), toolNames)
 *   // [{ house: 'bezalel', problem: 'ezra is less strict than bezalel (...): its mode intelligent ...' }]
 */
export function backupProblems(
  policies: Record<string, HousePolicy>,
  tools: readonly string[],
): { house: string; problem: string }[] {
  const problems: { house: string; problem: string }[] = []
  for (const house of Object.values(policies)) {
    const name = house.backup
    if (name === undefined) continue
    const add = (problem: string) => problems.push({ house: house.name, problem })
    const backup = policies[name]
    if (!backup) {
      add(`unknown house ${name} (houses: ${Object.keys(policies).join(', ')})`)
      continue
    }
    if (name === house.name) {
      add('a house cannot be its own backup')
      continue
    }
    // Jobs moved along a cycle would come back to the house that had no worker.
    const seen = new Set([house.name])
    for (let next: string | undefined = name; next !== undefined; next = policies[next]?.backup) {
      if (seen.has(next)) {
        add(`the backups form a cycle (${[...seen, next].join(' -> ')})`)
        break
      }
      seen.add(next)
    }
    const why = stricterProblems(house, backup, tools)
    if (why.length > 0)
      add(
        `${name} is less strict than ${house.name} (a house never fails over to a less strict policy): ${why.join('; ')}`,
      )
  }
  return problems
}
