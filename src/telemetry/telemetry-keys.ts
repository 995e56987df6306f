/**
 * The telemetry stream's key.
 *
 * @example
 *   telemetryStreamKey('{uw}') // '{uw}:telemetry'
 */
export function telemetryStreamKey(prefix: string): string {
  return `${prefix}:telemetry`
}

/** The key remembering that the step `once` was appended (same hash tag as the stream). */
export function telemetryOnceKey(prefix: string, once: string): string {
  return `${prefix}:telemetry-once:${once}`
}

/** Counts every event appended: each entry's `n` field, so a reader can tell what was trimmed. */
export function telemetrySeqKey(prefix: string): string {
  return `${prefix}:telemetry-seq`
}

/**
 * The forwarder's keys: `lease` (who forwards now: `<fence>:<owner>`, with a TTL), `fence` (the
 * counter that numbers each lease), `ack` (a hash: the last id the sink acknowledged, its `n`,
 * counts and the last gap).
 */
export function telemetrySinkKeys(prefix: string): { lease: string; fence: string; ack: string } {
  return {
    lease: `${prefix}:telemetry-sink:lease`,
    fence: `${prefix}:telemetry-sink:fence`,
    ack: `${prefix}:telemetry-sink:ack`,
  }
}
