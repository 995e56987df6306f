import type { Scenario } from '../scenario.js'
import { agentScenario } from './agent.js'
import { checkoutScenario } from './checkout.js'
import { dashboardScenario } from './dashboard.js'
import { e2eScenario } from './e2e.js'
import { harnessScenario } from './harness.js'
import { ingressScenario } from './ingress.js'
import { lockCostScenario } from './lock-cost.js'
import { memoryScenario } from './memory.js'
import { metricsScenario } from './metrics.js'
import { predictScenario } from './predict.js'
import { telemetryScenario } from './telemetry.js'
import { throughputScenario } from './throughput.js'
import { triageScenario } from './triage.js'

/** Every benchmark scenario, in the order `npm run bench` runs them. */
export const scenarios: Scenario[] = [
  ingressScenario,
  harnessScenario,
  e2eScenario,
  triageScenario,
  throughputScenario,
  memoryScenario,
  checkoutScenario,
  agentScenario,
  lockCostScenario,
  metricsScenario,
  dashboardScenario,
  predictScenario,
  telemetryScenario,
]
