import { z } from 'zod'
import { ModeName } from '../harness/mode.js'
import {
  AgentEndpoint,
  AgentInput,
  AuthToken,
  HouseRole,
  resolveAgent,
  type ResolvedAgent,
} from './agent-config.js'

const Millis = z.number().int().positive()

/** A house's policy as written in the `houses:` section; every field optional (defaults fill in). */
export const HousePolicyInput = z
  .object({
    /** Tool names this house may run; globs (`git_*`), `!name` excludes. */
    tools: z.array(z.string().min(1)).min(1).optional(),
    /** Mode used when the caller names none. */
    mode: ModeName.optional(),
    /** Gitea logins whose approvals count. */
    sovereigns: z.array(z.string().min(1)).optional(),
    /**
     * Where the bot runs this house's jobs: `checkout` (each job in its own checkout of the
     * issue's repository) or `static` (in `workspaceRoots`). Unset: the bot picks checkout for a
     * house without `workspaceRoots` when it runs against a Gitea; the library is always static.
     */
    workspace: z.enum(['checkout', 'static']).optional(),
    /** Directories the tools may touch; default the working directory. */
    workspaceRoots: z.array(z.string().min(1)).optional(),
    /** Per-attempt timeouts in ms: `default` and/or per tool name. */
    timeouts: z.record(z.string(), Millis).optional(),
    /** Which calls need an approval (SOVEREIGN mode always does). */
    approvalRequired: z.enum(['writes', 'all', 'none']).optional(),
    /** A write needs an earlier read of the same, unchanged target by this house. */
    readBeforeWrite: z.boolean().optional(),
    /** A result without evidence is `unverified`, not `success`. */
    proofRequired: z.boolean().optional(),
    /** Lets a sovereign approve their own request. */
    allowSelfApproval: z.boolean().optional(),
    /** Never runs write tools (allegro). */
    readOnly: z.boolean().optional(),
    /** Parallel executions per worker. */
    concurrency: z.number().int().min(1).max(64).optional(),
    /** The house's AI agent (docs/HARNESS.md, "Agents"); without one the house only runs tools. */
    agent: AgentInput.optional(),
    /** The design's houses.yaml: the Hermes API server of the house (hermes backend, default limits). */
    endpoint: AgentEndpoint.optional(),
    /** The design's houses.yaml: the key of `endpoint`, usually `${NAME}` from the environment. */
    auth_token: AuthToken.optional(),
    /** The design's role: decides which house a task goes to when none is named. */
    role: HouseRole.optional(),
    /** The design's priority: among houses of one role, the lowest number is chosen first. */
    priority: z.number().int().min(0).max(1000).optional(),
    /**
     * The house that takes this house's queued jobs when none of its workers has been alive for
     * `failoverAfterSeconds`; it must be as strict or stricter (`stricterProblems`), checked at start-up.
     */
    backup: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a house name')
      .optional(),
    /** How long no worker of the house may be alive before its queued jobs move to `backup`. */
    failoverAfterSeconds: z.number().int().min(1).max(86_400).optional(),
    /** The house's own Gitea account: assigning an issue to `login` starts `/implement` on it. */
    gitea: z
      .object({
        login: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'a Gitea login (letters, digits, ".", "_", "-")'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (h.agent && (h.endpoint !== undefined || h.auth_token !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: [h.endpoint !== undefined ? 'endpoint' : 'auth_token'],
        message:
          "either agent (with its endpoint and keyEnv) or the design's endpoint and auth_token, not both",
      })
    if (!h.agent && h.auth_token !== undefined && h.endpoint === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['auth_token'],
        message: 'auth_token together with endpoint (the Hermes API server the key is for)',
      })
  })
export type HousePolicyInput = z.input<typeof HousePolicyInput>

/** A house's resolved policy. */
export interface HousePolicy {
  name: string
  tools: string[]
  mode: z.infer<typeof ModeName>
  sovereigns: string[]
  /** As configured; undefined: the runner decides (see `HousePolicyInput.workspace`). */
  workspace?: 'checkout' | 'static'
  workspaceRoots: string[]
  timeouts: Record<string, number>
  approvalRequired: 'writes' | 'all' | 'none'
  readBeforeWrite: boolean
  proofRequired: boolean
  allowSelfApproval: boolean
  readOnly: boolean
  concurrency: number
  /** The house's agent; undefined: the house only runs tools (`/run`). */
  agent?: ResolvedAgent
  /** What the house is for; routes `/ask`, `/implement`, `/review` without `@house`. */
  role?: HouseRole
  /** Among houses of one role, the lowest is chosen first. */
  priority?: number
  /** The house's Gitea login: an issue assigned to it starts `/implement` on this house. */
  login?: string
  /** The house that takes this house's queued jobs while it has no live worker. */
  backup?: string
  /** How long no worker may be alive before the queued jobs move to `backup`. */
  failoverAfterSeconds: number
}

const BASE: Omit<HousePolicy, 'name'> = {
  tools: ['*'],
  mode: 'simple',
  sovereigns: [],
  workspaceRoots: [],
  timeouts: {},
  approvalRequired: 'none',
  readBeforeWrite: false,
  proofRequired: false,
  allowSelfApproval: false,
  readOnly: false,
  concurrency: 2,
  failoverAfterSeconds: 60,
}

/** The four houses of ARCHITECTURE.md; a config overrides fields and may add houses. */
export const DEFAULT_HOUSES: Record<string, z.infer<typeof HousePolicyInput>> = {
  timmy: { mode: 'sovereign', approvalRequired: 'all', role: 'sovereign' },
  ezra: { mode: 'intelligent', readBeforeWrite: true, role: 'archivist' },
  bezalel: { mode: 'intelligent', proofRequired: true, role: 'artificer' },
  allegro: { mode: 'simple', readOnly: true, role: 'tempo-and-dispatch' },
}

/** The `houses:` section: house name -> policy overrides. */
export const HousesSection = z
  .record(z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a lowercase house name'), HousePolicyInput)
  .superRefine((section, ctx) => {
    // An assignment to a login must name one house.
    const owner = new Map<string, string>()
    for (const [name, h] of Object.entries(section)) {
      const login = h.gitea?.login.toLowerCase()
      if (login === undefined) continue
      const first = owner.get(login)
      if (first === undefined) owner.set(login, name)
      else
        ctx.addIssue({
          code: 'custom',
          path: [name, 'gitea', 'login'],
          message: `a login no other house has; ${JSON.stringify(h.gitea?.login)} is also houses.${first}.gitea.login`,
        })
    }
  })
export type HousesSection = z.infer<typeof HousesSection>

/**
 * Merges configured houses over the defaults. A house not in the defaults starts from the base
 * policy (all tools, SIMPLE, no approvals).
 *
 * @example
 *   resolveHouses({ timmy: { sovereigns: ['alice'] } }).timmy.approvalRequired // 'all'
 */
export function resolveHouses(
  section: HousesSection = {},
  env: Record<string, string | undefined> = process.env,
): Record<string, HousePolicy> {
  const names = new Set([...Object.keys(DEFAULT_HOUSES), ...Object.keys(section)])
  const out: Record<string, HousePolicy> = {}
  for (const name of names) {
    const merged = { ...BASE, ...DEFAULT_HOUSES[name], ...stripUndefined(section[name] ?? {}) }
    const { agent: agentInput, endpoint, auth_token, gitea, ...policy } = merged
    const agent = resolveAgent(
      {
        ...(agentInput ? { agent: agentInput } : {}),
        ...(endpoint !== undefined ? { endpoint } : {}),
        ...(auth_token ? { auth_token } : {}),
      },
      env,
    )
    out[name] = {
      ...policy,
      name,
      mode: merged.mode,
      ...(agent ? { agent } : {}),
      ...(gitea ? { login: gitea.login } : {}),
    }
  }
  return out
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
