// The Hermes Agent API server double (CONTRACT.md in ../shared/hermes; docs/AGENTS.md).
export { createHermesDoubleApp } from './double-app.js'
export {
  asciiJson,
  TERMINAL_STATUSES,
  type EmittedEvent,
  type Framing,
  type RunStatus,
} from './double-run.js'
export { HermesFaults, type HermesFault } from './faults.js'
export {
  DEFAULT_DOUBLE_API_KEY,
  HermesDouble,
  type HermesDoubleOptions,
  type HermesLoggedRequest,
} from './hermes-double.js'
export { RESTART_ERROR, SHUTDOWN_ERROR } from './run-script.js'
export { echoScript, type HermesRunRequest, type HermesScript, type HermesScriptStep } from './script.js'
export {
  startHermesDouble,
  type RunningHermesDouble,
  type StartHermesDoubleOptions,
} from './start-hermes-double.js'
