export { AlertBridge, type AlertBridgeOptions, type BridgeOutcome } from './alert-bridge.js'
export {
  AlertGroupStore,
  GroupBusyError,
  type AlertGroupStoreOptions,
  type HeldGroup,
} from './alert-group-store.js'
export {
  groupId,
  mergeNotification,
  newGroup,
  planGroupStep,
  GroupState,
  type GroupStep,
  KnownAlert,
} from './alert-group.js'
export { alertLabels, LABELS_ANNOTATION, type AlertLabels } from './alert-labels.js'
export { AlertmanagerAlert, AlertmanagerNotification } from './alertmanager-notification.js'
export { AlertsConfig, readAlertsEnv } from './alerts-config.js'
export {
  alertChangeComment,
  alertIssueBody,
  alertIssueTitle,
  changeMarker,
  groupMarker,
} from './render-alert.js'
