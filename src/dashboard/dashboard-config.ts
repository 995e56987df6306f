import { z } from 'zod'
import { Secret } from '../config/secret.js'
import { TrustedProxy } from '../server/client-address.js'

const EnvName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name such as UW_DASHBOARD_SECRET')

const Login = z.string().min(1).max(100)

const SecretField = (what: string) =>
  z.instanceof(Secret, { message: `no ${what} here: name its environment variable instead` }).optional()

/** A dashboard role: viewers read; admins may also cancel and retry any job and change queues. */
export const DashboardRole = z.enum(['viewer', 'admin'])
export type DashboardRole = z.infer<typeof DashboardRole>

/**
 * The `dashboard:` section of the YAML config (docs/DASHBOARD.md): the operators' web pages under
 * `basePath` of the ingress. Off unless `enabled`; needs a session secret and at least one way in
 * (Gitea OAuth2 or tokens).
 *
 * @example
 *   # uw.yaml
 *   dashboard:
 *     enabled: true
 *     publicUrl: https://bot.example.com
 *     sessionSecretEnv: UW_DASHBOARD_SECRET
 *     admins: [alice]
 *     allow: { logins: [bob], orgs: [ops-team] }
 *     oauth: { clientId: 6f1c..., clientSecretEnv: UW_DASHBOARD_OAUTH_SECRET }
 *     tokens:
 *       - { tokenEnv: UW_DASHBOARD_TOKEN_OPS, login: ops, role: viewer }
 */
export const DashboardConfig = z
  .object({
    enabled: z.boolean().default(false),
    /** Where the pages are mounted on the ingress. */
    basePath: z
      .string()
      .regex(/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, 'a path such as /dashboard (no trailing slash)')
      .default('/dashboard'),
    /**
     * The URL people open the bot at (`https://bot.example.com`): the OAuth2 redirect URI is built
     * from it, and cookies are `Secure` unless it is `http://` on a loopback host. Default: the
     * ingress's own address (`http://127.0.0.1:<PORT>` when it listens on every interface).
     */
    publicUrl: z.url('an http(s) URL such as https://bot.example.com').optional(),
    /** The variable holding the secret that signs session cookies (32+ characters). */
    sessionSecretEnv: EnvName.optional(),
    /** Filled in by `loadConfig` from `sessionSecretEnv`, or given by a library caller. */
    sessionSecret: SecretField('session secret'),
    /** How long a login lasts without activity. */
    sessionTtlHours: z
      .number()
      .positive()
      .max(24 * 30)
      .default(12),
    /**
     * The longest a login lasts however active it is (from the login); the idle TTL ends it sooner.
     * Each request also re-reads its role from this config (docs/DASHBOARD.md "Access").
     */
    sessionMaxHours: z
      .number()
      .positive()
      .max(24 * 90)
      .default(24),
    /**
     * Who may log in with Gitea besides admins: these logins and the members of these Gitea
     * organisations (asked with the bot's token at login; give the bot's account membership or
     * site admin so private members count). Unset: every Gitea account (each sees only the jobs
     * of repositories it can read).
     */
    allow: z
      .object({ logins: z.array(Login).default([]), orgs: z.array(Login).default([]) })
      .strict()
      .optional(),
    /**
     * Failed token logins allowed per client (an IPv4 address, an IPv6 /64) and over all clients
     * within the window; past either, token login answers 429 for everyone it covers, a right token
     * too, until the oldest failures leave the window (docs/DASHBOARD.md "Access").
     */
    loginLimits: z
      .object({
        perClient: z.number().int().positive().default(10),
        overall: z.number().int().positive().default(100),
        windowMinutes: z
          .number()
          .positive()
          .max(24 * 60)
          .default(15),
      })
      .strict()
      .prefault({}),
    /**
     * Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client. Empty:
     * the client is the socket's address and the header is ignored (a client could write it).
     */
    trustedProxies: z.array(TrustedProxy).default([]),
    /** Live-update streams open at once, over every session (each holds a Redis connection). */
    maxEventStreams: z.number().int().positive().max(5000).default(64),
    /** Logins that are admins (besides Gitea site admins logged in with OAuth2). */
    admins: z.array(Login).default([]),
    /** Login with Gitea: an OAuth2 application registered on the configured Gitea. */
    oauth: z
      .object({
        clientId: z.string().min(1),
        clientSecretEnv: EnvName,
        /** Filled in by `loadConfig` from `clientSecretEnv`. */
        clientSecret: SecretField('client secret'),
      })
      .strict()
      .optional(),
    /** Tokens for where OAuth2 is not set up: each logs in as `login` with `role`. */
    tokens: z
      .array(
        z
          .object({
            tokenEnv: EnvName,
            /** Filled in by `loadConfig` from `tokenEnv`. */
            token: SecretField('token'),
            login: Login,
            role: DashboardRole.default('viewer'),
            /**
             * A viewer token sees every job when true; otherwise only jobs of public repositories
             * (a token is not a Gitea user, so it has no repository permissions of its own).
             */
            seeAll: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.enabled) return
    if (!c.sessionSecretEnv && !c.sessionSecret)
      ctx.addIssue({
        code: 'custom',
        path: ['sessionSecretEnv'],
        message: 'the variable holding the session secret, e.g. UW_DASHBOARD_SECRET',
      })
    if (!c.oauth && c.tokens.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['oauth'],
        message: 'a way to log in: oauth (Login with Gitea) and/or tokens',
      })
  })
export type DashboardConfig = z.infer<typeof DashboardConfig>

/** Shortest session secret accepted. */
export const MIN_SESSION_SECRET_CHARS = 32
/** Shortest login token accepted: a guessable one would open the dashboard to anyone. */
export const MIN_LOGIN_TOKEN_CHARS = 16

interface Problem {
  path: string
  expected: string
  found: string
}

/**
 * Fills the dashboard's secrets (session secret, OAuth2 client secret, login tokens) from the
 * variables the `dashboard:` section names, before the file is parsed (a YAML file cannot hold a
 * `Secret`). A named variable that is unset or too short is a problem.
 *
 * @example
 *   readDashboardEnv({ dashboard: { enabled: true, sessionSecretEnv: 'UW_DASHBOARD_SECRET' } }, process.env)
 */
export function readDashboardEnv(
  input: unknown,
  env: Record<string, string | undefined>,
): { input: unknown; problems: Problem[]; secrets: string[] } {
  const none = { input, problems: [], secrets: [] }
  if (typeof input !== 'object' || input === null) return none
  const section = (input as Record<string, unknown>).dashboard
  if (typeof section !== 'object' || section === null) return none
  const s = section as Record<string, unknown>
  // Off means off: a disabled section's variables are neither read nor required.
  if (s.enabled !== true) return none
  const problems: Problem[] = []
  const secrets: string[] = []
  const read = (name: unknown, path: string, what: string, min: number): Secret | undefined => {
    if (typeof name !== 'string' || !EnvName.safeParse(name).success) return undefined
    const value = env[name]?.trim()
    if (value) secrets.push(value)
    if (value && value.length >= min) return new Secret(value)
    problems.push({
      path,
      expected: `environment variable ${name} to hold ${what} (${min}+ characters)`,
      found:
        value === undefined || value === ''
          ? `nothing (${name} is not set)`
          : `${name} set to a shorter value`,
    })
    return undefined
  }
  const out: Record<string, unknown> = { ...s }
  const sessionSecret = read(
    s.sessionSecretEnv,
    'dashboard.sessionSecretEnv',
    'the session secret',
    MIN_SESSION_SECRET_CHARS,
  )
  if (sessionSecret) out.sessionSecret = sessionSecret
  if (typeof s.oauth === 'object' && s.oauth !== null) {
    const oauth = s.oauth as Record<string, unknown>
    const clientSecret = read(
      oauth.clientSecretEnv,
      'dashboard.oauth.clientSecretEnv',
      'the OAuth2 client secret',
      1,
    )
    out.oauth = clientSecret ? { ...oauth, clientSecret } : oauth
  }
  if (Array.isArray(s.tokens)) {
    out.tokens = s.tokens.map((t: unknown, i) => {
      if (typeof t !== 'object' || t === null) return t
      const entry = t as Record<string, unknown>
      const token = read(
        entry.tokenEnv,
        `dashboard.tokens.${i}.tokenEnv`,
        'a login token',
        MIN_LOGIN_TOKEN_CHARS,
      )
      return token ? { ...entry, token } : entry
    })
  }
  return { input: { ...input, dashboard: out }, problems, secrets }
}
