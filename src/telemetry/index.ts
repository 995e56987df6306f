// The telemetry stream: job, agent and heartbeat events appended once to `<prefix>:telemetry`, read back live or from an id.
export {
  TelemetryEvent,
  TELEMETRY_TYPES,
  SUMMARY_CHARS,
  type StoredTelemetryEvent,
  type TelemetryType,
} from './telemetry-event.js'
export { NO_TELEMETRY, type TelemetrySink } from './telemetry-sink.js'
export { RedisTelemetry, type RedisTelemetryOptions, type TelemetryRetention } from './redis-telemetry.js'
export { TelemetryConfig, readTelemetryEnv } from './telemetry-config.js'
export { telemetryStreamKey, telemetryOnceKey } from './telemetry-keys.js'
export {
  readTelemetry,
  newestTelemetryId,
  StreamId,
  TelemetryFilter,
  type TelemetryPage,
} from './read-telemetry.js'
