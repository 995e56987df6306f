// A job's checkout (CheckoutManager.prepare: fetch of a warm mirror + the job's own clone checked
// out) vs plain `git worktree add` on the same mirror, same run. The repository has 5,000 commits
// and 2,000 files, generated once with `git fast-import`.
// Standalone: npm run bench -- checkout
import { spawn, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { CheckoutManager } from '../../src/checkouts/index.js'
import { startGitHttpServer } from '../../test/helpers/git-http.js'
import type { Round, Scenario } from '../scenario.js'

const COMMITS = 5_000
const FILES = 2_000
const PER_ROUND = 8

/** Plain git, as a person would run it: no system or global config, nothing else set. */
const PLAIN_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }

/** The fast-import stream of the repository: 2,000 files in the first commit, 3 changed per commit after. */
function fastImportStream(): Buffer {
  const parts: Buffer[] = []
  const put = (s: string | Buffer): void => void parts.push(typeof s === 'string' ? Buffer.from(s) : s)
  let mark = 1
  const blob = (text: string): number => {
    const b = Buffer.from(text)
    put(`blob\nmark :${mark}\ndata ${b.length}\n`)
    put(b)
    put('\n')
    return mark++
  }
  const file = (i: number): string => `dir${i % 40}/sub${(i >> 3) % 10}/file${i}.txt`
  for (let c = 0; c < COMMITS; c++) {
    const changes: [string, number][] = []
    if (c === 0) for (let i = 0; i < FILES; i++) changes.push([file(i), blob(`file ${i}\n`.repeat(20))])
    else
      for (let k = 0; k < 3; k++) {
        const i = (c * 7 + k * 613) % FILES
        changes.push([file(i), blob(`file ${i} revision ${c}\n`.repeat(20))])
      }
    const msg = `commit ${c}\n`
    put(
      `commit refs/heads/main\nmark :${mark++}\ncommitter Bench <bench@example.invalid> ${1_700_000_000 + c} +0000\n`,
    )
    put(`data ${Buffer.byteLength(msg)}\n${msg}`)
    for (const [p, m] of changes) put(`M 100644 :${m} ${p}\n`)
    put('\n')
  }
  return Buffer.concat(parts)
}

function makeRepo(bare: string): void {
  mkdirSync(bare, { recursive: true })
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare], { env: PLAIN_ENV })
  execFileSync('git', ['--git-dir', bare, 'fast-import', '--quiet'], {
    env: PLAIN_ENV,
    input: fastImportStream(),
    maxBuffer: 1 << 26,
  })
}

function plainGit(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env: PLAIN_ENV, stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git ${args[0]}: ${err}`))))
  })
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** The `checkout` bench scenario. */
export const checkoutScenario: Scenario = {
  name: 'checkout',
  description:
    "a job's checkout (fetch of a warm mirror + its own clone, 5,000 commits, 2,000 files) vs plain git worktree add",
  async run(options) {
    const dir = mkdtempSync(join(tmpdir(), 'uw-bench-checkout-'))
    const server = await startGitHttpServer({ projectRoot: join(dir, 'served'), allowPush: false })
    try {
      const t0 = Date.now()
      makeRepo(join(dir, 'served', 'bench', 'big.git'))
      const generateMs = Date.now() - t0
      options.progress(`  generated ${COMMITS} commits, ${FILES} files in ${generateMs} ms`)
      const manager = new CheckoutManager({
        root: join(dir, 'root'),
        allowedOrigins: [server.url],
        diskBudgetBytes: Number.MAX_SAFE_INTEGER,
        keepFailedMs: 0,
        log: pino({ level: 'silent' }),
      })
      const mirror = join(dir, 'root', 'mirrors', 'bench', 'big.git')
      let job = 0
      const request = () => ({
        repo: { owner: 'bench', name: 'big' },
        cloneUrl: server.repoUrl('bench/big.git'),
        jobId: `bench-${job++}`,
        target: { kind: 'default' as const, branch: 'main' },
      })
      const c0 = Date.now()
      const cold = await manager.prepare(request(), AbortSignal.timeout(300_000))
      const coldMs = Date.now() - c0
      await cold.release('success')
      const head = cold.commit
      options.progress(`  cold mirror + first checkout: ${coldMs} ms`)

      const rounds: Round[] = []
      const steps = { fetch: [] as number[], worktreeAdd: [] as number[], cloneCheckout: [] as number[] }
      const fetchArgs = ['--git-dir', mirror, 'fetch', '--quiet', '--prune', server.repoUrl('bench/big.git')]
      for (let r = 0; r < options.rounds; r++) {
        const subject: number[] = []
        const baseline: number[] = []
        for (let i = 0; i < PER_ROUND; i++) {
          let co: Awaited<ReturnType<CheckoutManager['prepare']>> | undefined
          subject.push(
            await timed(async () => (co = await manager.prepare(request(), AbortSignal.timeout(60_000)))),
          )
          await co?.release('success')
          const wt = join(dir, 'plain', `wt-${r}-${i}`)
          const add = await timed(() =>
            plainGit(['--git-dir', mirror, 'worktree', 'add', '--quiet', '--detach', wt, head]),
          )
          baseline.push(add)
          steps.worktreeAdd.push(add)
          // The same steps as prepare, as plain git commands: fetch, then a local clone and checkout.
          steps.fetch.push(
            await timed(() =>
              plainGit([...fetchArgs, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*']),
            ),
          )
          const cl = `${wt}-clone`
          steps.cloneCheckout.push(
            await timed(async () => {
              await plainGit(['clone', '--quiet', '--no-checkout', '--local', mirror, cl])
              await plainGit(['-C', cl, 'checkout', '--quiet', '--detach', head])
            }),
          )
          rmSync(wt, { recursive: true, force: true })
          rmSync(cl, { recursive: true, force: true })
          await plainGit(['--git-dir', mirror, 'worktree', 'prune'])
        }
        const s = median(subject)
        const b = median(baseline)
        rounds.push({ subject: { checkoutMs: s, ratio: s / b }, baseline: { checkoutMs: b, ratio: 1 } })
        options.progress(
          `  round ${r + 1}: prepare ${s.toFixed(1)} ms, plain worktree add ${b.toFixed(1)} ms (${(s / b).toFixed(2)}×)`,
        )
      }
      return {
        subject:
          'CheckoutManager.prepare on a warm mirror: locked fetch over HTTP (nothing new), clone with hard links, checkout of 2,000 files',
        baseline: 'plain `git worktree add --detach` of the same commit from the same mirror (no fetch)',
        metrics: [
          {
            key: 'checkoutMs',
            label: 'checkout ready (baseline: plain worktree add)',
            unit: 'ms',
            better: 'lower',
          },
          { key: 'ratio', label: 'prepare / plain worktree add', unit: '×', better: 'lower' },
        ],
        rounds,
        targets: [
          { metric: 'ratio', kind: 'max', value: 1.5, description: 'prepare ≤ 1.5× plain git worktree add' },
        ],
        settings: {
          commits: COMMITS,
          files: FILES,
          checkoutsPerRound: PER_ROUND,
          generateMs,
          coldMirrorAndFirstCheckoutMs: coldMs,
          server: 'git http-backend behind node:http, loopback',
        },
        tables: [
          {
            title: 'Plain git, step by step (median over every round, ms)',
            header: [
              'warm fetch (nothing new)',
              'worktree add',
              'clone --local + checkout',
              'fetch + clone + checkout',
            ],
            rows: [
              [
                median(steps.fetch).toFixed(1),
                median(steps.worktreeAdd).toFixed(1),
                median(steps.cloneCheckout).toFixed(1),
                (median(steps.fetch) + median(steps.cloneCheckout)).toFixed(1),
              ],
            ],
          },
        ],
      }
    } finally {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
