export { sandboxSecret, SANDBOX_SECRET_FILE } from './sandbox-secret.js'
export { startServices, type RunningServices, type StartServicesOptions } from './start-services.js'
