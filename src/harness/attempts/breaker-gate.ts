import type { ToolFault, ToolSpec } from '../../tools/tool.js'
import type { CircuitBreaker } from './circuit-breaker.js'
import { errText } from '../err-text.js'
import type { ToolResultError } from '../tool-result.js'

/** What the breaker gate needs from the harness. */
export interface BreakerGateDeps {
  breaker: CircuitBreaker
  house: string
  now: () => number
}

/** A call let through the circuit of its tool × house; `probe` when it is the half-open probe. */
export interface Gate {
  key: string
  probe: boolean
}

/**
 * Asks the circuit of `spec` in this house whether a call may run now. A closed circuit lets it
 * through; an open one (or a half-open one whose probe is out) answers with a `circuit-open` error.
 *
 * @example
 *   const passed = await acquireGate(deps, spec)
 *   if ('error' in passed) return finish(run, 'failure', passed.error)
 */
export async function acquireGate(
  deps: BreakerGateDeps,
  spec: ToolSpec,
): Promise<{ gate: Gate } | { error: ToolResultError }> {
  const key = `${deps.house}:${spec.name}`
  const decision = await deps.breaker.acquire(key, deps.now())
  if (!decision.allowed) {
    return {
      error: {
        rule: 'circuit-open',
        reason: `circuit for ${spec.name} in house ${deps.house} is ${decision.state} until ${new Date(decision.retryAt).toISOString()} after repeated failures`,
        fix: 'wait for the cool-down; one probe call then decides whether it closes',
      },
    }
  }
  return { gate: { key, probe: decision.probe } }
}

/**
 * Tells the circuit how a call it let through ended (not for a cancelled call). A failure the
 * caller caused (no such file, bad regex...) says nothing about the tool: it must not let one
 * writer switch the tool off for everyone, so it is not recorded, and as a probe it is released
 * (src/harness/attempts/fault.ts). A store that cannot record becomes a note, never a rejection: the tool
 * has run.
 *
 * @example
 *   await recordGate(deps, gate, { ok: false, fault: 'caller' }, run.notes)
 */
export async function recordGate(
  deps: BreakerGateDeps,
  gate: Gate,
  outcome: { ok: boolean; fault?: ToolFault },
  notes: string[],
): Promise<void> {
  const counted =
    outcome.ok || outcome.fault !== 'caller'
      ? deps.breaker.record(gate.key, outcome.ok, gate.probe, deps.now())
      : deps.breaker.release(gate.key, gate.probe, deps.now())
  await counted.catch((err: unknown) => {
    notes.push(`circuit breaker state not recorded: ${errText(err)}`)
  })
}
