export {
  AgentEndpoint,
  AgentInput,
  agentKeys,
  AgentLimitsInput,
  AuthToken,
  EnvName,
  HouseRole,
  resolveAgent,
  type ResolvedAgent,
} from './agent-config.js'
export { BreakerConfig, HarnessConfig, RetryConfig, type HarnessConfigInput } from './harness-config.js'
export {
  AgentsConfig,
  houseForTask,
  ROLE_FOR_TASK,
  routingProblems,
  type AgentTaskKind,
  type HouseChoice,
  type RoutableHouse,
} from './house-for-task.js'
export { readHouseEnv, type HouseEnvProblem, type HouseEnvResult } from './house-env.js'
export {
  DEFAULT_HOUSES,
  HousePolicyInput,
  HousesSection,
  resolveHouses,
  type HousePolicy,
} from './house-policy.js'
export { backupProblems, stricterProblems } from './backup-policy.js'
export { toolMatches } from './tool-glob.js'
