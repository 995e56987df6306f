export { BreakerConfig, HarnessConfig, RetryConfig, type HarnessConfigInput } from './harness-config.js'
export {
  DEFAULT_HOUSES,
  HousePolicyInput,
  HousesSection,
  resolveHouses,
  type HousePolicy,
} from './house-policy.js'
export { toolMatches } from './tool-glob.js'
