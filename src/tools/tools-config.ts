import { z } from 'zod'
import { CustomToolDef } from './custom/custom-tool-def.js'

const HealthEndpoint = z.union([
  z
    .object({
      name: z.string().min(1),
      url: z.url({ protocol: /^https?$/ }),
      expectStatus: z.number().int().optional(),
    })
    .strict(),
  z
    .object({ name: z.string().min(1), host: z.string().min(1), port: z.number().int().min(1).max(65535) })
    .strict(),
])
export type HealthEndpoint = z.infer<typeof HealthEndpoint>

/**
 * A branch prefix such as `uw/{house}/`: it ends with `/` (so `uw/bezalel` cannot be taken for
 * `uw/bezaleel-x`), and with `{house}` filled in by a house name (`[a-z][a-z0-9_-]*`) it is a valid
 * start of a git branch name: no leading `-` or `/`, no empty, `.`-led or `.lock` components, none
 * of the characters git refuses in ref names.
 */
export const BranchPrefix = z
  .string()
  .min(2)
  .max(100)
  .refine((p) => p.endsWith('/'), 'must end with "/"')
  .refine((p) => {
    const filled = p.replaceAll('{house}', 'house')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\s\x00-\x1f\x7f~^:?*[\\{}]|\.\.|@\{/.test(filled) || filled.startsWith('-')) return false
    return filled
      .slice(0, -1)
      .split('/')
      .every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock') && part !== '@')
  }, 'not a valid git branch prefix (e.g. "uw/{house}/")')

/**
 * The `toolSettings:` section of the YAML file config: allowlists, endpoints and caps the tools
 * read from `ToolContext.toolConfig`. Every key has a safe default, so `ToolsConfig.parse({})` is
 * a complete config.
 *
 * @example
 *   toolSettings:
 *     http: { allowHosts: [gitea.internal] }
 *     services: { controlAllowlist: [nginx.service] }
 *     healthChecks: [{ name: api, url: 'http://127.0.0.1:3000/health' }]
 *     customTools:
 *       - { name: deploy, description: Deploy, command: [./deploy.sh, '{env}'], args: { env: { type: enum, values: [staging, prod] } }, access: write }
 */
export const ToolsConfig = z
  .object({
    /** Caps for every child process a tool runs. */
    exec: z
      .object({
        /** Bytes kept per stream (stdout, stderr); the rest is counted, not buffered. */
        maxOutputBytes: z
          .number()
          .int()
          .positive()
          .default(1024 * 1024),
      })
      .strict()
      .default({ maxOutputBytes: 1024 * 1024 }),
    http: z
      .object({
        /** Hosts (names or IP literals, `*.example.com` for subdomains) exempt from the SSRF guard. */
        allowHosts: z.array(z.string().min(1)).default([]),
        /** Response bytes kept; the rest is cut and the result says so. */
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(1024 * 1024),
        maxRedirects: z.number().int().min(0).max(20).default(5),
        timeoutMs: z.number().int().positive().default(15_000),
      })
      .strict()
      .default({ allowHosts: [], maxBytes: 1024 * 1024, maxRedirects: 5, timeoutMs: 15_000 }),
    services: z
      .object({
        /** Units `service_control` may start, stop, restart or reload. Empty = none. */
        controlAllowlist: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ controlAllowlist: [] }),
    /** Endpoints `health_check` probes when called without targets. Trusted: no SSRF guard. */
    healthChecks: z.array(HealthEndpoint).default([]),
    files: z
      .object({
        maxReadBytes: z
          .number()
          .int()
          .positive()
          .default(1024 * 1024),
        maxWriteBytes: z
          .number()
          .int()
          .positive()
          .default(4 * 1024 * 1024),
        maxListEntries: z.number().int().positive().default(2000),
        /** Files larger than this are skipped by `file_search`. */
        searchMaxFileBytes: z
          .number()
          .int()
          .positive()
          .default(2 * 1024 * 1024),
        /** Only the first N characters of a line are searched, which bounds every regex run. */
        searchMaxLineLength: z.number().int().positive().default(4096),
        /** Wall-clock budget of one search; a runaway regex is stopped at this point. */
        searchTimeBudgetMs: z.number().int().positive().default(5_000),
        /** Directory names never descended into by `file_list --recursive` and `file_search`. */
        ignoreDirs: z.array(z.string()).default(['.git', 'node_modules']),
      })
      .strict()
      .default({
        maxReadBytes: 1024 * 1024,
        maxWriteBytes: 4 * 1024 * 1024,
        maxListEntries: 2000,
        searchMaxFileBytes: 2 * 1024 * 1024,
        searchMaxLineLength: 4096,
        searchTimeBudgetMs: 5_000,
        ignoreDirs: ['.git', 'node_modules'],
      }),
    git: z
      .object({
        /** Author/committer for `git_commit` when the repo has none configured. */
        authorName: z.string().min(1).optional(),
        authorEmail: z.string().min(1).optional(),
        /**
         * `git_push` pushes only to branches under this prefix and `gitea_create_pr` opens pull
         * requests only from them; `{house}` is replaced by the house's name.
         */
        branchPrefix: BranchPrefix.default('uw/{house}/'),
      })
      .strict()
      .default({ branchPrefix: 'uw/{house}/' }),
    /** Tools declared in configuration, e.g. `deploy`. */
    customTools: z.array(CustomToolDef).default([]),
  })
  .strict()
export type ToolsConfig = z.infer<typeof ToolsConfig>

/** The config a tool reads: the context's, or the defaults. */
export function toolsConfigOf(ctx: { toolConfig?: ToolsConfig }): ToolsConfig {
  return ctx.toolConfig ?? DEFAULT_TOOLS_CONFIG
}

const DEFAULT_TOOLS_CONFIG: ToolsConfig = ToolsConfig.parse({})
