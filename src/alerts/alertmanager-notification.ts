import { z } from 'zod'

/** Label or annotation sets: Alertmanager sends string → string maps. */
const KeyValues = z.record(z.string(), z.string())

/**
 * A timestamp as Alertmanager writes it (RFC 3339, nanoseconds allowed). `endsAt` of a firing
 * alert is often Go's zero time `0001-01-01T00:00:00Z`.
 */
const Timestamp = z
  .string()
  .max(64)
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'an RFC 3339 timestamp')

/** One alert of a notification, as Alertmanager's webhook sends it. Only the fields the bridge reads. */
export const AlertmanagerAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: KeyValues,
  annotations: KeyValues.default({}),
  startsAt: Timestamp,
  endsAt: Timestamp,
  generatorURL: z.string().max(4096).default(''),
  /** Alertmanager's hash of the alert's labels: the same alert has the same fingerprint each time it fires. */
  fingerprint: z.string().regex(/^[0-9a-f]{1,32}$/, 'a hex fingerprint'),
})
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>

/**
 * Alertmanager's webhook body, format version 4 (prometheus.io/docs/alerting/latest/configuration,
 * `<webhook_config>`). One notification is the whole state of one alert group: every alert
 * currently in it, firing or just resolved.
 *
 * @example
 *   const n = AlertmanagerNotification.parse(JSON.parse(body))
 *   n.groupKey // '{}/{severity="critical"}:{alertname="UwHouseNoLiveWorker"}'
 */
export const AlertmanagerNotification = z.object({
  version: z.literal('4'),
  /** Identifies the alert group across notifications; the bridge keys one issue on it. */
  groupKey: z.string().min(1).max(8192),
  /** Alerts left out because of `max_alerts`. */
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1024),
  groupLabels: KeyValues,
  commonLabels: KeyValues,
  commonAnnotations: KeyValues,
  externalURL: z.string().max(4096),
  alerts: z.array(AlertmanagerAlert).min(1).max(1000),
})
export type AlertmanagerNotification = z.infer<typeof AlertmanagerNotification>
