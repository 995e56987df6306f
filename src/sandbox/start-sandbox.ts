import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { startGiteaDouble, type RunningGiteaDouble } from '../gitea/double/index.js'
import { startModelDouble, type RunningModelDouble } from '../agents/openai/double/index.js'
import { demoAgentStep } from './demo-agent.js'

/** File under UW_DATA_DIR describing the running sandbox (URL, users, tokens); mode 0600. */
export const SANDBOX_FILE = 'sandbox.json'

const SandboxUser = z.object({ login: z.string(), token: z.string() })

/** What `uni-wizard sandbox` needs to act in the sandbox, read from `<UW_DATA_DIR>/sandbox.json`. */
export const SandboxInfo = z.object({
  giteaUrl: z.string(),
  webhookUrl: z.string(),
  repo: z.object({ owner: z.string(), name: z.string() }),
  /** Where `demo/sandbox` can be cloned (the bot's token as password, or anonymously: it is public). */
  cloneUrl: z.string().optional(),
  /** The scripted model every house's agent talks to (an OpenAI-compatible double), `…/v1`. */
  agentUrl: z.string().optional(),
  issue: z.number().int(),
  users: z.object({ bot: SandboxUser, writer: SandboxUser, sovereign: SandboxUser, reader: SandboxUser }),
})
export type SandboxInfo = z.infer<typeof SandboxInfo>

/** The people of the sandbox. */
export const SANDBOX_LOGINS = {
  bot: 'uni-wizard',
  owner: 'demo',
  writer: 'wren',
  sovereign: 'sage',
  reader: 'rory',
} as const

export interface StartSandboxOptions {
  /** Where sandbox.json is written. */
  dataDir: string
  /** The bot's webhook URL (`http://127.0.0.1:3000/webhooks/gitea`). */
  webhookUrl: string
  webhookSecret: string
  /** Port of the Gitea double; 0 picks a free one. */
  port?: number
}

export interface RunningSandbox {
  info: SandboxInfo
  gitea: RunningGiteaDouble
  /** The scripted model the houses' agents use (`demoAgentStep`). */
  model: RunningModelDouble
  stop(): Promise<void>
}

/**
 * Starts the Gitea double on a local port and seeds a demo world: repository `demo/sandbox`, hosted
 * as a real git repository (three commits with a README, clone URL in `info.cloneUrl`), with
 * issue #1, the bot `uni-wizard` (repo admin, so it can read permissions), the writer `wren`, the
 * sovereign `sage` and the reader `rory`, and a webhook to the bot signed with the sandbox secret.
 * Writes `<dataDir>/sandbox.json` for `uni-wizard sandbox comment`.
 *
 * @example
 *   const sandbox = await startSandbox({ dataDir: '.data', webhookUrl: 'http://127.0.0.1:3000/webhooks/gitea', webhookSecret })
 *   // GITEA_URL = sandbox.info.giteaUrl, token = sandbox.info.users.bot.token
 */
export async function startSandbox(opts: StartSandboxOptions): Promise<RunningSandbox> {
  let gitea: RunningGiteaDouble
  try {
    gitea = await startGiteaDouble({ port: opts.port ?? 0, strict: false })
  } catch {
    gitea = await startGiteaDouble({ port: 0, strict: false })
  }
  const d = gitea.double
  const model = await startModelDouble({
    script: (request) => demoAgentStep(request),
    models: ['sandbox-demo'],
  })
  const bot = d.createUser({ login: SANDBOX_LOGINS.bot, fullName: 'uni-wizard (sandbox bot)' })
  d.createUser({ login: SANDBOX_LOGINS.owner })
  const writer = d.createUser({ login: SANDBOX_LOGINS.writer, fullName: 'Wren Writer' })
  const sovereign = d.createUser({ login: SANDBOX_LOGINS.sovereign, fullName: 'Sage Sovereign' })
  const reader = d.createUser({ login: SANDBOX_LOGINS.reader, fullName: 'Rory Reader' })
  const repo = d.createRepo({
    owner: SANDBOX_LOGINS.owner,
    name: 'sandbox',
    description: 'uni-wizard sandbox',
    git: true,
  })
  seedSandboxRepo(d, repo)
  d.addCollaborator(repo, SANDBOX_LOGINS.bot, 'admin')
  d.addCollaborator(repo, SANDBOX_LOGINS.writer, 'write')
  d.addCollaborator(repo, SANDBOX_LOGINS.sovereign, 'admin')
  d.createLabel(repo, { name: 'house/bezalel', color: 'c5def5', exclusive: true })
  d.createLabel(repo, { name: 'house/ezra', color: 'c5def5', exclusive: true })
  const issue = d.createIssue(repo, {
    title: 'Try uni-wizard here',
    body: 'Comment `/help`, `/run git_status @bezalel`, `/ask what is in the README?` or `/implement add a changelog` on this issue.',
    author: SANDBOX_LOGINS.writer,
  })
  // Seeding happened before the hook exists, so none of it is delivered to the bot.
  d.addHook(repo, { url: opts.webhookUrl, secret: opts.webhookSecret, contentType: 'json' })
  const info: SandboxInfo = {
    giteaUrl: gitea.url,
    webhookUrl: opts.webhookUrl,
    repo,
    cloneUrl: d.cloneUrl(repo),
    agentUrl: `${model.url}/v1`,
    issue: issue.number,
    users: {
      bot: { login: bot.login, token: bot.token },
      writer: { login: writer.login, token: writer.token },
      sovereign: { login: sovereign.login, token: sovereign.token },
      reader: { login: reader.login, token: reader.token },
    },
  }
  mkdirSync(opts.dataDir, { recursive: true })
  const file = join(opts.dataDir, SANDBOX_FILE)
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 })
  chmodSync(file, 0o600)
  return {
    info,
    gitea,
    model,
    stop: async () => {
      await model.close()
      await gitea.stop()
    },
  }
}

/** A few commits and a README on `demo/sandbox`'s default branch, so a checkout has history. */
function seedSandboxRepo(d: RunningGiteaDouble['double'], repo: { owner: string; name: string }): void {
  const author = { name: 'Sage Sovereign', email: 'sage@sandbox.localhost' }
  d.seedCommits(
    repo,
    {
      'README.md':
        '# demo/sandbox\n\nThe uni-wizard sandbox repository. Comment `/run git_status @bezalel` on issue #1.\n',
    },
    'Initial commit',
    { author, date: '2026-07-20T09:00:00Z' },
  )
  d.seedCommits(
    repo,
    { 'src/hello.ts': 'export const hello = (name: string): string => `Hello, ${name}!`\n' },
    'Add hello',
    { author, date: '2026-07-20T09:05:00Z' },
  )
  d.seedCommits(
    repo,
    { 'docs/NOTES.md': '# Notes\n\n- The houses work on checkouts of this repository.\n' },
    'Add notes',
    { author, date: '2026-07-20T09:10:00Z' },
  )
  // The repository's proof: what the bot runs before an implementation's pull request opens.
  d.seedCommits(
    repo,
    {
      '.uni-wizard.yaml':
        '# uni-wizard settings (docs/CONFIG.md)\nproof:\n  - name: whitespace\n    argv: [git, diff, --check]\n    timeoutMs: 30000\n',
    },
    'Add uni-wizard settings',
    { author, date: '2026-07-20T09:15:00Z' },
  )
}

/**
 * Reads `<dataDir>/sandbox.json`; throws with a hint when no sandbox runs there.
 *
 * @example
 *   const { giteaUrl, users } = readSandboxInfo('.data')
 */
export function readSandboxInfo(dataDir: string): SandboxInfo {
  const file = join(dataDir, SANDBOX_FILE)
  let raw: string
  try {
    raw = readFileSync(file, 'utf8')
  } catch {
    throw new Error(`no sandbox found (${file} is missing); start one with \`npm start\` without GITEA_URL`)
  }
  return SandboxInfo.parse(JSON.parse(raw))
}
