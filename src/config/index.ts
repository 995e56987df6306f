export { ConfigError, type ConfigProblem } from './config-error.js'
export { Env } from './env.js'
export { FileConfig } from './file-config.js'
export { loadConfig, type Config } from './load-config.js'
