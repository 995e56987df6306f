import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { readSandboxInfo, startSandbox, type RunningSandbox } from '../../src/sandbox/start-sandbox.js'

const run = promisify(execFile)

describe('the sandbox hosts demo/sandbox as a real repository', () => {
  let dataDir: string
  let sandbox: RunningSandbox | undefined

  afterEach(async () => {
    await sandbox?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('seeds a README and a few commits that clone over HTTP with the bot token', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'uw-sandbox-git-'))
    sandbox = await startSandbox({
      dataDir,
      port: 0,
      webhookUrl: 'http://127.0.0.1:9/webhooks/gitea',
      webhookSecret: 'sandbox-secret',
    })
    const info = readSandboxInfo(dataDir)
    expect(info.cloneUrl).toBe(`${info.giteaUrl}/demo/sandbox.git`)

    const bot = new GiteaJsAdapter({
      baseUrl: info.giteaUrl,
      token: info.users.bot.token,
      retry: { attempts: 1 },
    })
    const repo = await bot.getRepository(info.repo)
    expect(repo).toMatchObject({ fullName: 'demo/sandbox', defaultBranch: 'main', empty: false })
    const main = await bot.getBranch(info.repo, 'main')

    const out = join(dataDir, 'clone')
    await run(
      'git',
      [
        '-c',
        `http.extraHeader=Authorization: token ${info.users.bot.token}`,
        'clone',
        '-q',
        repo.cloneUrl,
        out,
      ],
      {
        env: {
          PATH: process.env.PATH,
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_TERMINAL_PROMPT: '0',
        },
      },
    )
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('# demo/sandbox')
    const { stdout } = await run('git', ['-C', out, 'log', '--format=%H %s'])
    const log = stdout.trim().split('\n')
    expect(log).toHaveLength(4)
    expect(log[0]).toBe(`${main?.commitSha} Add uni-wizard settings`)
    // The repository's proof, which an implementation must pass before its pull request opens.
    expect(readFileSync(join(out, '.uni-wizard.yaml'), 'utf8')).toContain('argv: [git, diff, --check]')

    const root = sandbox.gitea.double.gitStorage.root
    await sandbox.stop()
    sandbox = undefined
    expect(existsSync(root)).toBe(false)
  })
})
