// House workers: pick up a job, run it through the Harness, record and report the result; heartbeats.
export { beat, unbeat, liveness } from './heartbeat.js'
export { harnessMode, jobMode, houseInfo, toolInfo, toolArgs } from './house-vocabulary.js'
export { startHouseWorker, type HouseWorkerOptions, type RunningHouseWorker } from './house-worker.js'
export { defaultDaemonWorkspace, daemonHouses } from './house-workspaces.js'
export { startFailover, type FailoverOptions } from './failover.js'
