// Stress of a worker process (event-loop lag, queue wait, Redis latency) that makes INTELLIGENT jobs run as SIMPLE.
export { StressConfig } from './stress-config.js'
export { Hysteresis } from './hysteresis.js'
export {
  StressMonitor,
  STRESS_SIGNALS,
  type HouseStress,
  type StressReading,
  type StressSignal,
} from './stress-monitor.js'
