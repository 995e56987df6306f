export { betaCdf, betaQuantile } from './beta-quantile.js'
export {
  MemoryPatternStore,
  PATTERN_WINDOW,
  RedisPatternStore,
  type Outcome,
  type PatternStore,
} from './pattern-store.js'
export { ADAPTIVE_MIN_SAMPLES, adaptiveTimeout, predictFrom, type Prediction } from './predict.js'
