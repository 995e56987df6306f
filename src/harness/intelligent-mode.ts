import { argShape } from '../intelligence/arg-shape.js'
import type { FailureKind } from '../intelligence/failure-kind.js'
import type { IntelligenceConfig } from '../intelligence/intelligence-config.js'
import type { PatternStore } from '../intelligence/pattern-store.js'
import {
  adaptiveTimeout,
  formatPrediction,
  predictCall,
  retryAdvice,
  type RetryAdvice,
} from '../intelligence/predict.js'
import type { ToolSpec } from '../tools/tool.js'
import { errText } from './err-text.js'
import type { StressCheck } from './harness-options.js'
import { Mode } from './mode.js'
import type { RunState } from './run-state.js'

/** What INTELLIGENT mode needs from the harness: where this house's past outcomes are, and its bounds. */
export interface IntelligentModeDeps {
  patterns: PatternStore
  house: string
  /** Under stress, INTELLIGENT calls run as SIMPLE (`run.degraded` says why). */
  stress?: StressCheck
  config: IntelligenceConfig
  now: () => number
}

/**
 * The call's timeout: `configuredMs`, or in INTELLIGENT mode adapted to this house's past
 * outcomes of the tool with arguments of this shape (docs/INTELLIGENCE.md). The prediction is
 * kept in `run.prediction`; once there is enough history it is said in the notes with the adapted
 * timeout. Under stress (`deps.stress`) the run degrades to SIMPLE, saying why in `run.degraded`;
 * a pattern store that cannot answer degrades it too, with a note.
 *
 * @example
 *   const timeoutMs = await predictTimeout(deps, spec, args, run, 30_000)
 */
export async function predictTimeout(
  deps: IntelligentModeDeps,
  spec: ToolSpec,
  args: unknown,
  run: RunState,
  configuredMs: number,
): Promise<number> {
  if (run.mode !== Mode.INTELLIGENT) return configuredMs
  const stressed = deps.stress?.degraded()
  if (stressed !== undefined) {
    // Exactly SIMPLE: no prediction read now, and `learnOutcome` writes nothing for a SIMPLE run.
    run.mode = Mode.SIMPLE
    run.degraded = { from: Mode.INTELLIGENT, reason: stressed }
    return configuredMs
  }
  try {
    run.patterns = await deps.patterns.read({ house: deps.house, tool: spec.name, shape: argShape(args) })
    const prediction = predictCall(run.patterns, { now: deps.now(), config: deps.config })
    run.prediction = prediction
    const adapted = adaptiveTimeout(prediction, configuredMs, deps.config.timeout)
    // Said only once there is history to adapt to; before, the ack already says there is not.
    if (adapted) run.notes.push(`INTELLIGENT: ${formatPrediction(prediction)}; ${adapted.why}`)
    return adapted?.timeoutMs ?? configuredMs
  } catch (err) {
    run.mode = Mode.SIMPLE
    run.notes.push(`INTELLIGENT mode degraded to SIMPLE: pattern store unavailable (${errText(err)})`)
    return configuredMs
  }
}

/**
 * INTELLIGENT mode's retry rule for the attempt loop: a transient kind is retried while its record
 * says retries recover (`retryAdvice`); undefined (the plain rule) in other modes.
 */
export function retryRule(
  deps: IntelligentModeDeps,
  run: RunState,
): ((kind: FailureKind) => RetryAdvice) | undefined {
  const stats = run.patterns?.total
  if (run.mode !== Mode.INTELLIGENT || !stats) return undefined
  return (kind) => retryAdvice(stats, kind, { now: deps.now(), config: deps.config })
}

/**
 * INTELLIGENT mode: records how the call went (how long since `run.t0`, why it failed, which
 * failure kinds were retried) for later predictions. A store that cannot record becomes a note:
 * the tool has run.
 *
 * @example
 *   await learnOutcome(deps, { tool: spec.name, args }, run, { ok: true })
 */
export async function learnOutcome(
  deps: IntelligentModeDeps,
  call: { tool: string; args?: unknown },
  run: RunState,
  outcome: { ok: boolean; kind?: FailureKind },
): Promise<void> {
  if (run.mode !== Mode.INTELLIGENT) return
  const shape = call.args === undefined ? undefined : argShape(call.args)
  await deps.patterns
    .record(
      { house: deps.house, tool: call.tool, ...(shape ? { shape } : {}) },
      { ...outcome, durationMs: performance.now() - run.t0, retried: run.retried },
      deps.now(),
    )
    .catch((err: unknown) => run.notes.push(`outcome not learned: ${errText(err)}`))
}
