import { randomBytes } from 'node:crypto'
import type { FileConfig } from '../config/file-config.js'
import { Secret } from '../config/secret.js'
import { createLoginToken } from '../dashboard/login-routes.js'
import { createRedis } from '../queue/connection.js'
import { SANDBOX_LOGINS, type RunningSandbox } from './start-sandbox.js'

/**
 * The sandbox's dashboard: on, at the bot's loopback URL, with Login with Gitea against the
 * sandbox's Gitea double (an OAuth2 application registered there now) and a fresh session secret
 * per start. The sovereign `sage` is a dashboard admin. A `dashboard:` section that is enabled
 * in the configuration is kept as it is.
 *
 * @example
 *   const file = sandboxDashboard(config.file, sandbox, 'http://127.0.0.1:3000')
 */
export function sandboxDashboard(file: FileConfig, sandbox: RunningSandbox, botUrl: string): FileConfig {
  if (file.dashboard.enabled) return file
  const basePath = file.dashboard.basePath
  const app = sandbox.gitea.double.createOAuthApp({
    name: 'uni-wizard dashboard (sandbox)',
    redirectUris: [`${botUrl}${basePath}/oauth/callback`],
  })
  return {
    ...file,
    dashboard: {
      ...file.dashboard,
      enabled: true,
      publicUrl: botUrl,
      sessionSecret: new Secret(randomBytes(32).toString('base64url')),
      admins: [...file.dashboard.admins, SANDBOX_LOGINS.sovereign],
      oauth: {
        clientId: app.clientId,
        clientSecretEnv: 'UW_SANDBOX_OAUTH_SECRET',
        clientSecret: new Secret(app.clientSecret),
      },
    },
  }
}

/**
 * A one-time link that logs the sandbox's writer (`wren`) into the dashboard, as `npm start`
 * prints it. Valid for a day, for one visit.
 */
export async function sandboxLoginLink(opts: {
  redisUrl: string
  prefix: string
  /** The dashboard's URL: public URL and base path. */
  url: string
}): Promise<string> {
  const redis = createRedis(opts.redisUrl, 'worker')
  try {
    const token = await createLoginToken(redis, opts.prefix, {
      login: SANDBOX_LOGINS.writer,
      role: 'viewer',
      via: 'sandbox',
    })
    return `${opts.url}/login/once?token=${token}`
  } finally {
    redis.disconnect()
  }
}
