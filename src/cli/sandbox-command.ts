import { parseArgs } from 'node:util'
import { loadConfig } from '../config/index.js'
import { GiteaJsAdapter } from '../gitea/gitea-js-adapter.js'
import type { GiteaComment } from '../gitea/port.js'
import { readSandboxInfo, type SandboxInfo } from '../sandbox/start-sandbox.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { usage } from './cli-setup.js'

const ACK_STATE = /<!-- uni-wizard:ack job=(\S+) state=(\S+) -->/g
const LIVE = new Set(['queued', 'running'])

function userOf(info: SandboxInfo, name: string): { login: string; token: string } {
  const all = Object.values(info.users)
  const found = all.find((u) => u.login === name) ?? info.users[name as keyof SandboxInfo['users']]
  if (!found)
    throw new UsageError(`--as: no sandbox user "${name}" (users: ${all.map((u) => u.login).join(', ')})`)
  return found
}

/** Jobs whose ack comments are still moving (queued or running), by job id. */
function pendingJobs(comments: GiteaComment[]): Set<string> {
  const pending = new Set<string>()
  for (const c of comments)
    for (const m of c.body.matchAll(ACK_STATE)) if (LIVE.has(m[2] ?? '')) pending.add(m[1] ?? '')
  return pending
}

function show(c: GiteaComment, edited: boolean): string {
  // The hidden key marker is for the bot; people do not need it.
  const body = c.body.replace(/\n*<!-- uw:key=[^>]*-->\s*$/, '')
  return `\n--- ${edited ? 'edited' : 'new'} comment #${c.id} by @${c.user.login} ---\n${body}\n`
}

export const sandboxCommand: CliCommand = {
  name: 'sandbox',
  summary: 'Act in the local sandbox: post a comment as a sandbox user and watch the bot answer',
  usage: `usage: uni-wizard sandbox comment <issue> "<text>" [--as <user>] [--wait <seconds>]
       uni-wizard sandbox info

Needs a running sandbox (\`npm start\` without GITEA_URL), found through <UW_DATA_DIR>/sandbox.json.
\`comment\` posts the text as a sandbox user (default the writer, wren; also sage the sovereign and
rory the reader) through the Gitea double's HTTP API, then prints the bot's replies and every edit
of its ack comments until no job is queued or running any more, or --wait seconds (default 30)
pass.

example:
  uni-wizard sandbox comment 1 "/run git_status @bezalel"
  uni-wizard sandbox comment 1 "/approve j0123456789ab" --as sage`,
  async run(argv) {
    const { values, positionals } = usage(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: { as: { type: 'string' }, wait: { type: 'string', default: '30' } },
      }),
    )
    const info = readSandboxInfo(loadConfig(process.env).env.UW_DATA_DIR)
    const [sub, issueArg, text] = positionals
    if (sub === 'info') {
      console.log(JSON.stringify({ ...info, users: Object.values(info.users).map((u) => u.login) }, null, 2))
      return 0
    }
    if (sub !== 'comment') throw new UsageError('give a subcommand: comment or info')
    const issue = Number(issueArg)
    if (!Number.isInteger(issue) || issue < 1) throw new UsageError('give the issue number, e.g. 1')
    if (!text) throw new UsageError('give the comment text in quotes')
    const waitMs = Number(values.wait) * 1000
    if (!Number.isFinite(waitMs) || waitMs < 0) throw new UsageError('--wait takes seconds')
    const as = userOf(info, values.as ?? info.users.writer.login)
    const gitea = (token: string) =>
      new GiteaJsAdapter({ baseUrl: info.giteaUrl, token, retry: { attempts: 2 } })
    const reader = gitea(info.users.bot.token)
    const seen = new Map((await reader.listComments(info.repo, issue)).map((c) => [c.id, c.body]))
    const posted = await gitea(as.token).createComment(info.repo, issue, text)
    seen.set(posted.id, posted.body)
    console.log(`posted comment #${posted.id} on issue #${issue} as @${as.login}; waiting for the bot...`)

    const deadline = Date.now() + waitMs
    let answered = false
    // Bot comments that appeared or changed since the post: the ones this command moved.
    const moved = new Map<number, GiteaComment>()
    for (;;) {
      await new Promise((r) => setTimeout(r, 250))
      let changed = false
      for (const c of await reader.listComments(info.repo, issue)) {
        if (c.user.login !== info.users.bot.login || seen.get(c.id) === c.body) continue
        changed = true
        console.log(show(c, seen.has(c.id)))
        seen.set(c.id, c.body)
        moved.set(c.id, c)
        answered = true
      }
      // One quiet poll after the last change, so an ack edited right after a reply is still shown.
      if (answered && !changed && pendingJobs([...moved.values()]).size === 0) return 0
      if (Date.now() > deadline) {
        console.log(
          answered ? 'stopped waiting; jobs are still running (see /status)' : 'no answer from the bot yet',
        )
        return answered ? 0 : 1
      }
    }
  },
}
