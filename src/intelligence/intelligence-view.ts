import type { FailureKind } from './failure-kind.js'
import type { AdaptedTimeout, Prediction, RetryAdvice } from './predict.js'
import type { Velocity } from './velocity.js'

/** A house × tool's standing, for `/houses`, metrics and `telemetry --status`. */
export interface HouseToolSummary {
  house: string
  tool: string
  prediction: Prediction
  /** Predicted success below `intelligence.successFloor`, with enough history to say so. */
  belowFloor: boolean
  velocity: Velocity
}

/** Everything `/predict` shows for one house × tool (or task). */
export interface PredictionDetail extends HouseToolSummary {
  /** `argShape` of the arguments asked about; `*` for the tool as a whole. */
  shape: string
  /** The timeout INTELLIGENT mode would use, when there is enough history. */
  timeout: AdaptedTimeout | undefined
  configuredTimeoutMs: number | undefined
  /** Per transient kind seen in retries: whether it is still retried. */
  retries: { kind: FailureKind; advice: RetryAdvice }[]
}

/**
 * What the command side may ask of the pattern store (read only): predictions per house × tool,
 * the adaptations they lead to, and the standing of every house × tool. The daemon gives one
 * over Redis (`PatternIntelligence`); without it, commands route and acknowledge as before.
 */
export interface IntelligenceView {
  predict(house: string, tool: string, args?: Record<string, string>): Promise<Prediction>
  detail(house: string, tool: string, args?: Record<string, string>): Promise<PredictionDetail>
  overview(): Promise<HouseToolSummary[]>
  /** The configured floor and minimum history, for the words around the numbers. */
  readonly settings: { successFloor: number; minSamples: number; halfLifeHours: number }
}
