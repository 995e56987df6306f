import { createHash } from 'node:crypto'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative, resolve } from 'node:path'
import type { Logger } from '../logger.js'
import type { ExecutionPredicate } from '../provenance/statement.js'
import { exec } from '../tools/exec.js'
import type { ProofCommand } from './repo-settings.js'

/** One proof command's evidence, as the statement's `proof` list holds it. */
export type ProofEvidence = NonNullable<ExecutionPredicate['proof']>[number]

export interface ProofRun {
  /** True when every command exited 0 (an empty list passes). */
  passed: boolean
  evidence: ProofEvidence[]
  /** The end of each command's output (stdout, then stderr), for people; its digests are the evidence. */
  output?: string
}

/** How much of each proof command's output is kept for the job's comment. */
const OUTPUT_TAIL = 4000

export interface RunProofOptions {
  /** The job's cancellation: aborting stops the current command (its whole tree) and rejects. */
  signal?: AbortSignal
  log: Logger
  /** Output bytes kept per stream and command for the digest (default 16 MiB). */
  maxOutputBytes?: number
}

const sha256 = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`

/**
 * The program to start: a bare name is looked up on PATH by the system; a path is resolved in the
 * checkout and must stay inside it (a program named by the default branch, docs/CONFIG.md).
 */
function programOf(checkout: string, argv0: string): string {
  if (!argv0.includes('/')) return argv0
  const root = realpathSync(checkout)
  const full = resolve(root, argv0)
  let real: string
  try {
    real = realpathSync(full)
  } catch {
    return full // exec reports "command not found"
  }
  const rel = relative(root, real)
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel))
    throw new Error(`proof command program ${JSON.stringify(argv0)} is outside the checkout`)
  return real
}

/**
 * Runs a repository's proof commands (from `.uni-wizard.yaml` on its default branch) in the job's
 * checkout, one after the other, under the custom tools' process rules (`exec`): no shell, a
 * process group of their own, the whole tree killed at the command's timeout, and an environment
 * built from nothing: PATH, a fresh temporary HOME, a UTF-8 C locale and the command's own `env`,
 * never the bot's secrets. All commands run even after one fails, so the evidence is complete.
 * Only for proof-required houses: the caller (the house worker) decides that.
 *
 * @example
 *   const proof = await runProofCommands(checkout.path, settings.proof, { signal, log })
 *   // proof.passed: the job may end `success`; proof.evidence goes into the statement's `proof`
 */
export async function runProofCommands(
  checkoutPath: string,
  proof: readonly ProofCommand[],
  opts: RunProofOptions,
): Promise<ProofRun> {
  const evidence: ProofEvidence[] = []
  const outputs: string[] = []
  for (const cmd of proof) {
    const home = mkdtempSync(join(tmpdir(), 'uw-proof-home-'))
    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(new Error('proof command timed out')), cmd.timeoutMs)
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal
    const started = Date.now()
    let exitCode: number | null = null
    let sig: string | null = null
    let stdout = ''
    let stderr = ''
    let timedOut = false
    try {
      const program = programOf(checkoutPath, cmd.argv[0]!)
      const r = await exec(program, cmd.argv.slice(1), {
        cwd: checkoutPath,
        env: {
          ...cmd.env,
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          LANG: 'C.UTF-8',
          LC_ALL: 'C.UTF-8',
        },
        signal,
        maxOutputBytes: opts.maxOutputBytes ?? 16 * 1024 * 1024,
      })
      exitCode = r.code
      sig = r.signal
      stdout = r.stdout
      stderr = r.stderr
    } catch (err) {
      if (opts.signal?.aborted) throw err
      if (timeout.signal.aborted) {
        timedOut = true
      } else stderr = err instanceof Error ? err.message : String(err)
    } finally {
      clearTimeout(timer)
      rmSync(home, { recursive: true, force: true })
    }
    const durationMs = Date.now() - started
    const ok = exitCode === 0 && !timedOut
    const summary = timedOut
      ? `proof ${cmd.name}: timed out after ${cmd.timeoutMs} ms`
      : `proof ${cmd.name}: ${ok ? 'passed' : 'failed'} (exit ${exitCode ?? `signal ${sig ?? 'none'}`})`
    opts.log.info({ proof: cmd.name, exitCode, timedOut, durationMs }, summary)
    const both = `${stdout}${stdout && stderr ? '\n' : ''}${stderr}`
    outputs.push(
      `$ ${cmd.argv.join(' ')}   # ${summary}\n${both.length > OUTPUT_TAIL ? `[... ${both.length - OUTPUT_TAIL} characters before]\n${both.slice(-OUTPUT_TAIL)}` : both}`,
    )
    evidence.push({
      kind: 'proof-command',
      summary,
      detail: {
        name: cmd.name,
        argv: [...cmd.argv],
        exitCode,
        signal: sig,
        durationMs,
        stdoutSha256: sha256(stdout),
        stderrSha256: sha256(stderr),
        timedOut,
      },
    })
  }
  return {
    passed: evidence.every((e) => e.detail.exitCode === 0 && !e.detail.timedOut),
    evidence,
    output: outputs.join('\n'),
  }
}
