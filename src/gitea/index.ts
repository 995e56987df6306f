export * from './port.js'
export { GiteaError, isTransientStatus } from './gitea-error.js'
export {
  GiteaJsAdapter,
  LABEL_MAX_PAGES,
  LABEL_PAGE_SIZE,
  type GiteaJsAdapterOptions,
} from './gitea-js-adapter.js'
export { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy } from './retry-policy.js'
export {
  GITEA_ROUTES,
  giteaCallCode,
  meteredGitea,
  type GiteaCallCode,
  type GiteaCallObserver,
} from './metered-port.js'
