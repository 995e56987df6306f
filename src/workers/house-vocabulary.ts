import { Mode } from '../harness/mode.js'
import type { HousePolicy } from '../houses/house-policy.js'
import { toolMatches } from '../houses/tool-glob.js'
import type { ToolSpec } from '../tools/tool.js'
import type { HouseInfo, ToolInfo } from '../commands-core/command-spec.js'
import type { JobMode } from '../effects/effects.js'

// The command side speaks in upper-case modes and never/writes/always approvals (what people
// type and read); the harness in lower-case modes and none/writes/all (the YAML policy). This
// module is the one place that translates.

const TO_HARNESS: Record<JobMode, Mode> = {
  SIMPLE: Mode.SIMPLE,
  INTELLIGENT: Mode.INTELLIGENT,
  SOVEREIGN: Mode.SOVEREIGN,
}

/**
 * @example
 *   harnessMode('SOVEREIGN') // 'sovereign'
 */
export function harnessMode(mode: JobMode): Mode {
  return TO_HARNESS[mode]
}

/**
 * @example
 *   jobMode('intelligent') // 'INTELLIGENT'
 */
export function jobMode(mode: Mode): JobMode {
  return mode.toUpperCase() as JobMode
}

const APPROVAL: Record<HousePolicy['approvalRequired'], HouseInfo['approval']> = {
  none: 'never',
  writes: 'writes',
  all: 'always',
}

/** What each default house is for, shown by `/houses`. */
const ROLES: Record<string, string> = {
  timmy: 'sovereign: final review and approval',
  ezra: 'archivist: read before write',
  bezalel: 'artificer: proof required',
  allegro: 'tempo and dispatch: never writes',
}

/**
 * A resolved house policy as commands see it. `allowedTools` lists the concrete tool names the
 * harness would let the house run (its globs with `!` exclusions applied, no writes in a read-only
 * house), so `/run` refuses up front what the worker would deny.
 *
 * @example
 *   houseInfo(resolveHouses().allegro, builtinTools).allowedTools.includes('git_push') // false
 */
export function houseInfo(policy: HousePolicy, tools: readonly ToolSpec[]): HouseInfo {
  return {
    name: policy.name,
    description: ROLES[policy.name] ?? 'configured house',
    allowedTools: tools
      .filter((t) => toolMatches(t.name, policy.tools) && !(policy.readOnly && t.access === 'write'))
      .map((t) => t.name),
    defaultMode: jobMode(policy.mode),
    approval: APPROVAL[policy.approvalRequired],
    sovereigns: policy.sovereigns,
    allowSelfApproval: policy.allowSelfApproval,
    workspace: policy.workspace ?? 'static',
    ...(policy.role !== undefined ? { role: policy.role } : {}),
    ...(policy.agent
      ? {
          agent: {
            backend: policy.agent.backend,
            ...(policy.agent.model ? { model: policy.agent.model } : {}),
          },
        }
      : {}),
    ...(policy.login !== undefined ? { login: policy.login } : {}),
  }
}

/**
 * @example
 *   toolInfo(gitStatus) // { name: 'git_status', access: 'read', description: '…', args: ['repoPath', …] }
 */
export function toolInfo(tool: ToolSpec): ToolInfo {
  const shape = (tool.args as { shape?: unknown }).shape
  const args = shape && typeof shape === 'object' ? Object.keys(shape) : undefined
  return { name: tool.name, access: tool.access, description: tool.description, ...(args ? { args } : {}) }
}

/**
 * Command arguments arrive as strings (`setUpstream=true`, `limit=5`). When the raw strings do
 * not satisfy the tool's schema, `true`/`false` and plain numbers are tried as their JSON values;
 * the coerced args are used only if they then parse. Approval digests and execution both go
 * through this, so they agree.
 *
 * @example
 *   toolArgs(gitPush, { setUpstream: 'true' }) // { setUpstream: true }
 */
export function toolArgs(tool: ToolSpec | undefined, args: Record<string, string>): Record<string, unknown> {
  if (!tool || tool.args.safeParse(args).success) return args
  const coerced: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(args)) {
    if (v === 'true' || v === 'false') coerced[k] = v === 'true'
    else if (/^-?\d+(\.\d+)?$/.test(v) && Number.isFinite(Number(v))) coerced[k] = Number(v)
    else coerced[k] = v
  }
  return tool.args.safeParse(coerced).success ? coerced : args
}
