import { z } from 'zod'
import { createHash } from 'node:crypto'
import { taskDiffDigest } from '../harness/approvals/approval.js'
import type { ExecuteOptions, ExtraProof } from '../harness/harness-options.js'
import type { ToolResult } from '../harness/tool-result.js'
import type { Logger } from '../logger.js'
import type { Evidence } from '../tools/tool.js'
import { checkoutEnv, runGit } from '../checkouts/checkout-git.js'
import type { AgentJobDeps, AgentJobRun, Decision, TaskPrompt } from './agent-job-types.js'

/** Runs git in a task's checkout with the hardened environment; stdout, or throws. */
export async function gitIn(cwd: string, args: string[], signal: AbortSignal): Promise<string> {
  const r = await runGit(['-C', cwd, ...args], { env: checkoutEnv(undefined, {}), signal })
  if (r.code !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr.slice(0, 300)}`)
  return r.stdout
}

/** What an implementation's tail did. */
export interface Implementation {
  status: ToolResult['status']
  error?: { rule: string; reason: string; fix?: string }
  proof?: ExtraProof['evidence']
  pullRequest?: { number: number; url: string }
  diffSha256?: string
  branch?: string
  evidence: Evidence[]
  notes: string[]
}

/**
 * After the agent of an implementation is done: were there changes; the repository's proof (run
 * by the bot, not the agent); then commit on a branch under the house's prefix, push, and open a
 * work-in-progress pull request that refers to the issue, with the proof and the provenance. No
 * pull request without passing proof; the branch is pushed all the same, for a person to look at.
 */
export async function finishImplementation(
  deps: AgentJobDeps,
  run: AgentJobRun,
  prompt: TaskPrompt,
  summary: string,
  jlog: Logger,
): Promise<Implementation> {
  const { rec, signal } = run
  const co = run.checkout
  const evidence: Evidence[] = []
  const notes: string[] = []
  if (!co)
    return {
      status: 'failure',
      error: { rule: 'implement', reason: 'the job has no checkout to work in' },
      evidence,
      notes,
    }
  const changes = await gitIn(co.path, ['status', '--porcelain', '--untracked-files=all'], signal)
  if (changes.trim().length === 0)
    return {
      status: 'failure',
      error: {
        rule: 'implement',
        reason: 'the agent finished without changing any file',
        fix: 'give it clearer instructions with `/implement <instructions>`',
      },
      evidence,
      notes,
    }
  let proof: ExtraProof | undefined
  if (run.proof)
    proof = await run.proof(signal).catch((err: unknown) => {
      jlog.warn({ err }, 'proof commands could not run')
      return { passed: false, evidence: [] }
    })
  const proved = proof?.passed === true
  const missing = !proof && deps.harness.policy.proofRequired
  const branch = `${deps.harness.branchPrefix(run.branchPrefix)}issue-${rec.origin.issue}-${rec.id}`
  const call = async (
    tool: string,
    args: Record<string, unknown>,
    options: ExecuteOptions = { ...run.options, signal },
  ): Promise<ToolResult> => {
    const r = await deps.harness.execute(tool, args, options)
    if (r.evidence) evidence.push(r.evidence)
    return r
  }
  const failed = (step: string, r: ToolResult): Implementation => ({
    status: r.status === 'cancelled' ? 'cancelled' : r.status === 'denied' ? 'denied' : 'failure',
    error: {
      rule: 'implement',
      reason: `${step} did not succeed: ${r.error?.reason ?? r.status}`,
      ...(r.error?.fix ? { fix: r.error.fix } : {}),
    },
    ...(proof ? { proof: proof.evidence } : {}),
    branch,
    evidence,
    notes,
  })
  // The commit's identity, unless the checkout has one: the house, as the bot's agent.
  const named = await gitIn(co.path, ['config', '--get', 'user.email'], signal).catch(() => '')
  if (named.trim() === '') {
    await gitIn(co.path, ['config', 'user.name', `${rec.house} (uni-wizard agent)`], signal)
    await gitIn(co.path, ['config', 'user.email', `${rec.house}@uni-wizard.invalid`], signal)
  }
  const checkout = await call('git_checkout', { ref: branch, create: true })
  if (checkout.status !== 'success') return failed('creating the branch', checkout)
  // The diff is what gets approved, committed and pushed: everything the agent changed, staged.
  const stagedDiff = async (): Promise<string> => {
    await gitIn(co.path, ['add', '--all', '--', '.'], signal)
    const d = await gitIn(
      co.path,
      ['diff', '--cached', '--binary', '--no-color', '--no-ext-diff', co.commit],
      signal,
    )
    return createHash('sha256').update(d).digest('hex')
  }
  let diffSha256 = await stagedDiff()
  let pushOptions: ExecuteOptions = { ...run.options, signal }
  const mode = run.options.mode
  if (deps.harness.needsApproval('git_push', mode) || deps.harness.needsApproval('gitea_create_pr', mode)) {
    // The house asks approval for writes: the push and the pull request wait for a sovereign's
    // approval of this exact diff; a diff that changes meanwhile needs a new one.
    let approved: Decision | undefined
    for (let round = 0; round < 3 && !approved; round++) {
      const asked = diffSha256
      const d = deps.decide
        ? await deps.decide(
            {
              id: `diff-${asked.slice(0, 16)}`,
              what: `pushing branch ${branch} and opening a pull request with the diff sha256:${asked}`,
              digest: taskDiffDigest(rec.tool, asked),
            },
            signal,
          )
        : { decision: 'deny' as const, reason: 'this worker cannot ask for approvals' }
      if (d.decision === 'deny')
        return {
          status: signal.aborted ? 'cancelled' : 'denied',
          error: {
            rule: 'approval-denied',
            reason: `the push was not approved${d.by ? ` (denied by @${d.by})` : ''}${d.reason ? `: ${d.reason}` : ''}`,
            fix: `\`/retry ${rec.id}\` to ask again`,
          },
          diffSha256: asked,
          branch,
          evidence,
          notes,
        }
      diffSha256 = await stagedDiff()
      if (diffSha256 === asked) approved = d
      else
        notes.push(
          `the diff changed after approval was asked (sha256 ${asked.slice(0, 12)}… became ${diffSha256.slice(0, 12)}…); approval was asked again`,
        )
    }
    if (!approved)
      return {
        status: 'failure',
        error: { rule: 'approval-denied', reason: 'the diff kept changing while approval was asked' },
        diffSha256,
        branch,
        evidence,
        notes,
      }
    pushOptions = {
      ...pushOptions,
      approval: approved.approval as never,
      task: { tool: rec.tool, args: rec.args, diff: diffSha256 },
    }
  }
  const message = `${prompt.title.slice(0, 200)} (#${rec.origin.issue})\n\nImplemented by house ${rec.house}'s agent, job ${rec.id}.`
  const commit = await call('git_commit', { message, paths: ['.'] })
  if (commit.status !== 'success' && commit.status !== 'unverified') return failed('the commit', commit)
  const head = (await gitIn(co.path, ['rev-parse', 'HEAD'], signal)).trim()
  const push = await call('git_push', { branch }, pushOptions)
  if (push.status !== 'success' && push.status !== 'unverified')
    return { ...failed('the push', push), diffSha256 }
  if (!proved) {
    const why = missing
      ? `house ${rec.house} requires proof and the repository names no proof commands (.uni-wizard.yaml \`proof\`)${run.proofUnavailable ? `, or they are off on this worker: ${run.proofUnavailable}` : ''}`
      : `the repository's proof did not pass: ${
          (proof?.evidence ?? [])
            .filter((e) => e.detail.exitCode !== 0 || e.detail.timedOut)
            .map((e) => e.summary)
            .join('; ') || 'no evidence'
        }`
    if (!missing && !proof && !deps.harness.policy.proofRequired && !run.proofUnavailable) {
      // No proof asked for and none configured: the pull request opens, saying so.
      notes.push('the repository names no proof commands, so this implementation is not proven')
    } else {
      await deps.commitStatus?.(co.repo, head, 'failure', 'proof did not pass').catch(() => undefined)
      return {
        status: 'unverified',
        error: {
          rule: 'proof-commands',
          reason: why,
          fix: `look at branch ${branch}, fix the cause, then \`/retry ${rec.id}\``,
        },
        ...(proof ? { proof: proof.evidence } : {}),
        diffSha256,
        branch,
        evidence,
        notes,
      }
    }
  }
  const proofTable = (proof?.evidence ?? [])
    .map(
      (e) =>
        `| \`${e.detail.name}\` | ${e.detail.timedOut ? 'timed out' : `exit ${e.detail.exitCode ?? 'signal'}`} | ${Math.round(e.detail.durationMs)} ms | \`${e.detail.stdoutSha256.slice(0, 12)}\` |`,
    )
    .join('\n')
  const body = [
    `Refs #${rec.origin.issue}. Implemented by house **${rec.house}**'s agent for @${rec.requester.login} (job \`${rec.id}\`); work in progress until a person reviews it.`,
    '',
    '### Summary from the agent',
    '',
    '```text',
    summary.replaceAll('```', "'''").slice(0, 20_000),
    '```',
    '',
    '### Proof',
    '',
    proofTable
      ? `| command | result | time | stdout sha256 |\n|---|---|---|---|\n${proofTable}`
      : '_No proof commands are configured for this repository._',
    '',
    `Commit \`${head}\` from \`${co.commit}\`; diff sha256 \`${diffSha256}\`. The job's comment carries the signed provenance (\`uni-wizard verify\`).`,
  ].join('\n')
  const pr = await call(
    'gitea_create_pr',
    {
      repo: `${co.repo.owner}/${co.repo.name}`,
      head: branch,
      ...(co.baseBranch ? { base: co.baseBranch } : {}),
      title: prompt.title.slice(0, 200),
      body,
      draft: true,
    },
    pushOptions,
  )
  if (pr.status !== 'success' && pr.status !== 'unverified')
    return { ...failed('opening the pull request', pr), diffSha256 }
  const data = z
    .object({ number: z.number().int().positive(), url: z.string() })
    .partial()
    .passthrough()
    .safeParse(pr.data)
  const number = data.success ? data.data.number : undefined
  const url = data.success ? data.data.url : undefined
  await deps
    .commitStatus?.(co.repo, head, 'success', 'proof passed; pull request opened')
    .catch((err: unknown) => jlog.warn({ err }, 'commit status not set'))
  return {
    status: 'success',
    ...(proof ? { proof: proof.evidence } : {}),
    ...(number !== undefined && url !== undefined ? { pullRequest: { number, url } } : {}),
    diffSha256,
    branch,
    evidence,
    notes,
  }
}
