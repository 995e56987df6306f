export { ANY_SHAPE, argShape } from './arg-shape.js'
export { betaCdf, betaQuantile } from './beta-quantile.js'
export {
  chooseByPrediction,
  routingShares,
  seededUniform,
  SUCCESS_TIE,
  type ChosenHouse,
  type HouseCandidate,
} from './choose-house.js'
export { FAILURE_KINDS, isFailureKind, TRANSIENT_KINDS, type FailureKind } from './failure-kind.js'
export { decayOf, DEFAULT_INTELLIGENCE, IntelligenceConfig } from './intelligence-config.js'
export type { HouseToolSummary, IntelligenceView, PredictionDetail } from './intelligence-view.js'
export { PatternIntelligence } from './pattern-intelligence.js'
export {
  addOutcome,
  changeScore,
  decayTo,
  durationBucket,
  emptyStats,
  statsFromHash,
  type Decay,
  type Outcome,
  type PatternStats,
} from './pattern-stats.js'
export {
  MemoryPatternStore,
  RedisPatternStore,
  type PatternKey,
  type PatternRead,
  type PatternStore,
} from './pattern-store.js'
export {
  adaptiveTimeout,
  formatDuration,
  formatPrediction,
  histogramQuantile,
  predictCall,
  predictFrom,
  retryAdvice,
  type AdaptedTimeout,
  type Prediction,
  type RetryAdvice,
} from './predict.js'
export { formatVelocity, velocity, type Velocity } from './velocity.js'
