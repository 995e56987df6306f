import { z } from 'zod'
import { ModeName } from '../harness/mode.js'

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
  })
  .strict()
export type HousePolicyInput = z.infer<typeof HousePolicyInput>

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
}

/** The four houses of ARCHITECTURE.md; a config overrides fields and may add houses. */
export const DEFAULT_HOUSES: Record<string, HousePolicyInput> = {
  timmy: { mode: 'sovereign', approvalRequired: 'all' },
  ezra: { mode: 'intelligent', readBeforeWrite: true },
  bezalel: { mode: 'intelligent', proofRequired: true },
  allegro: { mode: 'simple', readOnly: true },
}

/** The `houses:` section: house name -> policy overrides. */
export const HousesSection = z.record(
  z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'a lowercase house name'),
  HousePolicyInput,
)
export type HousesSection = z.infer<typeof HousesSection>

/**
 * Merges configured houses over the defaults. A house not in the defaults starts from the base
 * policy (all tools, SIMPLE, no approvals).
 *
 * @example
 *   resolveHouses({ timmy: { sovereigns: ['alice'] } }).timmy.approvalRequired // 'all'
 */
export function resolveHouses(section: HousesSection = {}): Record<string, HousePolicy> {
  const names = new Set([...Object.keys(DEFAULT_HOUSES), ...Object.keys(section)])
  const out: Record<string, HousePolicy> = {}
  for (const name of names) {
    const merged = { ...BASE, ...DEFAULT_HOUSES[name], ...stripUndefined(section[name] ?? {}) }
    out[name] = { ...merged, name, mode: merged.mode }
  }
  return out
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
