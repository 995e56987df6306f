import type { ToolContext, ToolRunResult, ToolSpec } from '../tools/tool.js'
import { errText } from './err-text.js'
import type { Denial } from './policy-check.js'
import type { ReadStore } from './read-store.js'

/** What read-before-write needs from the harness. */
export interface ReadBeforeWriteDeps {
  reads: ReadStore
  house: string
  now: () => number
}

/** A call on a target: the tool, its parsed arguments and its context. */
export interface TargetCall {
  spec: ToolSpec
  args: unknown
  ctx: ToolContext
  /** What the tool names as its target (`safeTarget`). */
  target: string
}

/**
 * The target a call reads or writes, or undefined when the tool cannot name one for these
 * arguments (then read-before-write does not apply to the call).
 *
 * @example
 *   const target = policy.readBeforeWrite ? safeTarget(spec, args, ctx) : undefined
 */
export function safeTarget(spec: ToolSpec, args: unknown, ctx: ToolContext): string | undefined {
  try {
    return spec.target(args, ctx)
  } catch {
    return undefined
  }
}

/**
 * Whether this house may write the target now: it must have read it (or written it itself)
 * before, and the digest recorded then must equal the target's digest now. Answers the denial,
 * or undefined when the write may go ahead.
 *
 * @example
 *   const denial = await checkReadBeforeWrite(deps, { spec, args, ctx, target })
 *   if (denial) return finish(run, 'denied', denial)
 */
export async function checkReadBeforeWrite(
  deps: ReadBeforeWriteDeps,
  call: TargetCall,
): Promise<Denial | undefined> {
  const { spec, args, ctx, target } = call
  const record = await deps.reads.get(deps.house, target)
  if (!record) {
    return {
      rule: 'read-before-write',
      reason: `house ${deps.house} has not read ${target} before writing it`,
      fix: `read ${target} first with a read tool in house ${deps.house}, then write`,
    }
  }
  let current: string | undefined
  try {
    current = spec.targetDigest ? await spec.targetDigest(args, ctx) : undefined
  } catch (err) {
    return {
      rule: 'read-before-write',
      reason: `cannot read the current state of ${target}: ${errText(err)}`,
      fix: 'make the target readable, read it again, then write',
    }
  }
  if (!spec.targetDigest) {
    return {
      rule: 'read-before-write',
      reason: `${spec.name} cannot report the current digest of ${target}, so a change since the read cannot be ruled out`,
      fix: `run ${spec.name} in a house without readBeforeWrite, or give the tool a targetDigest`,
    }
  }
  if (current !== record.digest) {
    return {
      rule: 'read-before-write',
      reason: `${target} changed since read at ${record.at}`,
      fix: `read ${target} again, review the change, then write`,
    }
  }
  return undefined
}

/**
 * Records what a successful call leaves the target as: after a read, what was seen; after our own
 * write, what we wrote, so a second write needs no re-read. A store that cannot record becomes a
 * note.
 *
 * @example
 *   await rememberTarget(deps, { spec, args, ctx, target }, result, run.notes)
 */
export async function rememberTarget(
  deps: ReadBeforeWriteDeps,
  call: TargetCall,
  result: ToolRunResult,
  notes: string[],
): Promise<void> {
  const { spec, args, ctx, target } = call
  try {
    const digest =
      result.targetDigest ??
      (spec.access === 'read' && spec.targetDigest ? await spec.targetDigest(args, ctx) : undefined)
    if (digest !== undefined) {
      await deps.reads.set(deps.house, target, { digest, at: new Date(deps.now()).toISOString() })
    }
  } catch (err) {
    notes.push(`read of ${target} not recorded: ${errText(err)}`)
  }
}
