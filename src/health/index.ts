export {
  HealthChecks,
  type CheckState,
  type DependencyCheck,
  type HealthChecksOptions,
} from './health-checks.js'
export { createHealthApp, healthRoutes, type HealthRoutesDeps } from './health-routes.js'
export { startInstanceBeacon, type InstanceBeacon } from './instance-beacon.js'
export { InstanceInfo, listInstances, registerInstance, unregisterInstance } from './instance-registry.js'
export {
  checkHealth,
  formatHealth,
  type CheckHealthDeps,
  type HealthReport,
  type HouseReport,
  type InstanceReport,
} from './check-health.js'
