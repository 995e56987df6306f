import type { AlertmanagerNotification } from '../../src/alerts/alertmanager-notification.js'

/** One alert of a test notification. */
export interface TestAlert {
  fp: string
  status: 'firing' | 'resolved'
  startsAt?: string
  name?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

export const T0 = '2030-01-01T10:00:00.123456789Z'
export const T1 = '2030-01-01T11:00:00Z'
const ZERO = '0001-01-01T00:00:00Z'

/** A version-4 notification of one group, as Alertmanager sends it. */
export function notification(
  alerts: TestAlert[],
  groupKey = '{}:{alertname="UwHouseNoLiveWorker"}',
): AlertmanagerNotification {
  const built = alerts.map((a) => ({
    status: a.status,
    labels: { alertname: a.name ?? 'UwHouseNoLiveWorker', ...a.labels },
    annotations: a.annotations ?? { summary: 'house has no live worker' },
    startsAt: a.startsAt ?? T0,
    endsAt: a.status === 'resolved' ? T1 : ZERO,
    generatorURL: 'http://prometheus.test/graph',
    fingerprint: a.fp,
  }))
  return {
    version: '4',
    groupKey,
    truncatedAlerts: 0,
    status: built.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'uni-wizard',
    groupLabels: { alertname: 'UwHouseNoLiveWorker' },
    commonLabels: { alertname: 'UwHouseNoLiveWorker' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.test',
    alerts: built,
  }
}
