import type { PatternStore } from '../intelligence/pattern-store.js'
import { adaptiveTimeout, predictFrom } from '../intelligence/predict.js'
import type { ToolSpec } from '../tools/tool.js'
import { errText } from './err-text.js'
import type { StressCheck } from './harness-options.js'
import { Mode } from './mode.js'
import type { RunState } from './run-state.js'

/** What INTELLIGENT mode needs from the harness: where this house's past outcomes are. */
export interface IntelligentModeDeps {
  patterns: PatternStore
  house: string
  /** Under stress, INTELLIGENT calls run as SIMPLE (`run.degraded` says why). */
  stress?: StressCheck
}

/**
 * The call's timeout: `configuredMs`, or in INTELLIGENT mode adapted to this house's past
 * outcomes of the tool (the prediction is kept in `run.prediction`). Under stress (`deps.stress`)
 * the run degrades to SIMPLE, saying why in `run.degraded`; a pattern store that cannot answer
 * degrades it too, with a note.
 *
 * @example
 *   const timeoutMs = await predictTimeout(deps, spec, run, 30_000)
 */
export async function predictTimeout(
  deps: IntelligentModeDeps,
  spec: ToolSpec,
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
    const prediction = predictFrom(await deps.patterns.recent(deps.house, spec.name))
    run.prediction = prediction
    return adaptiveTimeout(prediction, configuredMs) ?? configuredMs
  } catch (err) {
    run.mode = Mode.SIMPLE
    run.notes.push(`INTELLIGENT mode degraded to SIMPLE: pattern store unavailable (${errText(err)})`)
    return configuredMs
  }
}

/**
 * INTELLIGENT mode: records how the call went (and how long it took since `run.t0`) for later
 * predictions. A store that cannot record becomes a note: the tool has run.
 *
 * @example
 *   await learnOutcome(deps, spec, run, true)
 */
export async function learnOutcome(
  deps: IntelligentModeDeps,
  spec: ToolSpec,
  run: RunState,
  ok: boolean,
): Promise<void> {
  if (run.mode !== Mode.INTELLIGENT) return
  await deps.patterns
    .record(deps.house, spec.name, { ok, durationMs: performance.now() - run.t0 })
    .catch((err: unknown) => run.notes.push(`outcome not learned: ${errText(err)}`))
}
