// The telemetry stream: job, agent and heartbeat events appended once to `<prefix>:telemetry`, read back live or from an id,
// and forwarded to the sovereign's sink (at least once, in order, one forwarder at a time).
export {
  TelemetryEvent,
  TELEMETRY_TYPES,
  SUMMARY_CHARS,
  type StoredTelemetryEvent,
  type TelemetryType,
} from './telemetry-event.js'
export { NO_TELEMETRY, type TelemetrySink } from './telemetry-sink.js'
export { RedisTelemetry, type RedisTelemetryOptions, type TelemetryRetention } from './redis-telemetry.js'
export { TelemetryConfig, TelemetrySinkConfig, readTelemetryEnv } from './telemetry-config.js'
export { telemetryStreamKey, telemetryOnceKey, telemetrySeqKey, telemetrySinkKeys } from './telemetry-keys.js'
export { SinkBatch, SinkEvent, SinkGap } from './sink-batch.js'
export { httpSink, shownSinkUrl, type SendBatch, type SendResult, type SinkErrorKind } from './sink-client.js'
export { TelemetryForwarder, type TelemetryForwarderOptions } from './telemetry-forwarder.js'
export { sinkBacklog, type SinkBacklog } from './sink-backlog.js'
export { registerTelemetryMetrics, type TelemetryMetrics } from './telemetry-metrics.js'
export {
  readTelemetry,
  newestTelemetryId,
  readNumbered,
  StreamId,
  TelemetryFilter,
  type TelemetryPage,
  type NumberedEntry,
} from './read-telemetry.js'
