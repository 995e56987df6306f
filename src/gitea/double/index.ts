// The Gitea test double (see docs/GITEA.md). msw-handlers.ts is deliberately not re-exported:
// msw is a dev dependency; import it from './msw-handlers.js' in tests.
export { GiteaContract, type ContractViolation } from './contract.js'
export { createDoubleApp, NETWORK_FAULT_HEADER } from './double-app.js'
export { FaultControl, type Fault } from './faults.js'
export type { DoubleHost, LoggedRequest } from './double-host.js'
export {
  createGiteaDouble,
  GiteaDouble,
  type GiteaDoubleOptions,
  type SeedIssue,
  type SeedPullRequest,
  type SeedUser,
} from './gitea-double.js'
export {
  startGiteaDouble,
  type RunningGiteaDouble,
  type StartGiteaDoubleOptions,
} from './start-gitea-double.js'
export { exclusiveScope, type CollaboratorPermission } from './store.js'
export {
  goJson,
  webhookHeaders,
  WEBHOOK_TIMEOUT_MS,
  type WebhookDelivery,
  type WebhookTarget,
} from './webhook-sender.js'
export { DoubleOAuth, type OAuthAppRecord } from './oauth-provider.js'
