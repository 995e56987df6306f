import { parseArgs } from 'node:util'
import { loadCatalogue, type Catalogue } from '../../labels/catalogue.js'
import { describeLabelSyncAction, planLabelSync, type LabelSyncAction } from '../../labels/plan-label-sync.js'
import type { GiteaPort, RepoRef } from '../gitea/port.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { cliEnv, cliGitea, parseRepoArg } from './cli-gitea.js'

const usage = `usage:
  uni-wizard labels sync --repo owner/name [--confirm] [--prune] [--catalogue <file>]

sync  Makes the repository's labels match labels/catalogue.yaml. Without --confirm it only prints
      the plan (a dry run). It creates missing labels, updates colour, description and
      exclusivity, and renames labels listed under \`previously\` (the label id stays, so every
      issue keeps it). It deletes labels the catalogue does not name only with --prune.
      Running it twice changes nothing the second time.
      Needs GITEA_URL and GITEA_TOKEN (write access to the repository).`

export interface LabelSyncResult {
  plan: LabelSyncAction[]
  applied: boolean
}

/**
 * Plans, and with `confirm` applies, a label sync through the port. Actions run in plan order;
 * a failure stops the sync (running it again resumes: the plan is recomputed from what is there).
 *
 * @example
 *   const { plan } = await syncLabels(gitea, { owner: 'alice', name: 'demo' }, { confirm: true })
 */
export async function syncLabels(
  port: GiteaPort,
  repo: RepoRef,
  {
    confirm = false,
    prune = false,
    catalogue = loadCatalogue(),
  }: {
    confirm?: boolean
    prune?: boolean
    catalogue?: Catalogue
  } = {},
): Promise<LabelSyncResult> {
  const existing = await port.listLabels(repo)
  const plan = planLabelSync(catalogue, existing, { prune })
  if (!confirm) return { plan, applied: false }
  for (const a of plan) {
    if (a.kind === 'create') await port.createLabel(repo, a.label)
    else if (a.kind === 'delete') await port.deleteLabel(repo, requireId(a.id, a.name))
    else {
      const name = a.kind === 'rename' ? a.from : a.name
      await port.editLabel(repo, requireId(a.id, name), a.label)
    }
  }
  return { plan, applied: true }
}

function requireId(id: number | undefined, name: string): number {
  // The port always lists ids; a missing one would mean a broken server answer.
  if (id === undefined) throw new Error(`label "${name}" has no id`)
  return id
}

/**
 * `uni-wizard labels sync` with injectable env and output, so tests run it in-process.
 *
 * @example
 *   await runLabels(['sync', '--repo', 'alice/demo'], process.env, console.log)
 */
export async function runLabels(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  const [sub, ...rest] = argv
  if (sub !== 'sync') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand')
  const { values } = parseArgs({
    args: rest,
    options: {
      repo: { type: 'string' },
      confirm: { type: 'boolean', default: false },
      prune: { type: 'boolean', default: false },
      catalogue: { type: 'string' },
    },
  })
  const repo = parseRepoArg(values.repo)
  const catalogue = values.catalogue ? loadCatalogue(values.catalogue) : loadCatalogue()
  const port = cliGitea(cliEnv(env))
  const { plan, applied } = await syncLabels(port, repo, {
    confirm: values.confirm,
    prune: values.prune,
    catalogue,
  })
  const where = `${repo.owner}/${repo.name}`
  if (plan.length === 0) {
    out(`${where}: labels already match the catalogue; nothing to do.`)
    return 0
  }
  out(`${where}: ${plan.length} change${plan.length === 1 ? '' : 's'}${applied ? ' applied' : ' planned'}:`)
  for (const a of plan) out(`  ${describeLabelSyncAction(a)}`)
  if (!applied) out('Dry run: nothing changed. Run again with --confirm to apply.')
  if (!values.prune) out('Labels outside the catalogue are kept (--prune deletes them).')
  return 0
}

/** `uni-wizard labels sync`. */
export const labelsCommand: CliCommand = {
  name: 'labels',
  summary: 'Sync a repository’s labels with the catalogue (dry run by default)',
  usage,
  run: (argv) => runLabels(argv, process.env, (line) => console.log(line)),
}
