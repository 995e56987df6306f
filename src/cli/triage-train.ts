import { parseArgs } from 'node:util'
import { RedisTriageStore } from '../triage/redis-triage-store.js'
import { RepoModels } from '../triage/repo-models.js'
import { trainRepoModel } from '../triage/train-repo-model.js'
import { createRedis, DEFAULT_PREFIX } from '../queue/connection.js'
import { cliEnv, cliGitea, parseRepoArg } from './cli-gitea.js'

/**
 * `uni-wizard triage train --repo owner/name [--max-pages n]`: pulls the repo's closed, labelled
 * issues through the Gitea port, trains its model on top of the shipped prior, and saves it in
 * Redis where the bot loads it. Env and output are injectable for in-process tests.
 *
 * @example
 *   await runTriageTrain(['--repo', 'alice/demo'], process.env, console.log)
 */
export async function runTriageTrain(
  argv: string[],
  env: Record<string, string | undefined>,
  out: (line: string) => void,
  { prefix = DEFAULT_PREFIX }: { prefix?: string } = {},
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { repo: { type: 'string' }, 'max-pages': { type: 'string', default: '40' } },
  })
  const repo = parseRepoArg(values.repo)
  const maxPages = Number(values['max-pages'])
  const parsed = cliEnv(env)
  const port = cliGitea(parsed)
  if (!parsed.REDIS_URL)
    throw new Error('set REDIS_URL to the Redis the bot uses: the trained model is stored there')
  const redis = createRedis(parsed.REDIS_URL, 'producer', { enableOfflineQueue: true })
  try {
    const store = new RedisTriageStore(redis, prefix)
    const started = performance.now()
    const r = await trainRepoModel(port, store, new RepoModels(store), repo, {
      maxPages: Number.isInteger(maxPages) && maxPages > 0 ? maxPages : 40,
    })
    const ms = performance.now() - started
    out(
      `${repo.owner}/${repo.name}: trained on ${r.model.exampleCount} examples ` +
        `(${r.fromHistory} closed issues, ${r.fromCorrections} corrections) in ${ms.toFixed(0)} ms; ` +
        `classes ${r.model.classes.join(', ')}; saved as revision ${r.revision}.`,
    )
    out(`History: ${r.paging.pages} page(s), stopped because the last page was ${r.paging.stoppedBecause}.`)
    return 0
  } finally {
    redis.disconnect()
  }
}
