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
