import { z } from 'zod'
import { ackCommentUrl } from '../report/commit-status.js'
import { createHash } from 'node:crypto'
import { taskDiffDigest } from '../harness/approvals/approval.js'
import type { ExecuteOptions, ExtraProof } from '../harness/harness-options.js'
import type { ToolResult } from '../harness/tool-result.js'
import type { Logger } from '../logger.js'
import type { Evidence, ToolContext } from '../tools/tool.js'
import { git, gitRaw, IGNORE_SUBMODULES, resolveRepo, type CheckedRepo } from '../tools/git/git-repo.js'
import type { AgentJobDeps, AgentJobRun, Decision, TaskPrompt } from './agent-job-types.js'

/**
 * Runs git in a task's checkout through the git tools' hardened runner (the checkout's config
 * checked against the data-only allowlist first, and again when it changes); stdout, or throws.
 */
export async function gitIn(cwd: string, args: string[], signal: AbortSignal, log: Logger): Promise<string> {
  const ctx = { signal, house: 'agent', workspaceRoots: [cwd], log } as ToolContext
  return git(await resolveRepo('.', ctx), args, ctx)
}

/** What an implementation's tail did. */
export interface Implementation {
  status: ToolResult['status']
  error?: { rule: string; reason: string; fix?: string }
  proof?: ExtraProof['evidence']
  /** The proof commands' output, when they did not pass (for the job's comment). */
  proofOutput?: string
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
  // Every git call here goes through the git tools' hardened runner: the checkout's config is
  // checked against the data-only allowlist (and again whenever it changes), so an agent that
  // edited .git/config (a Hermes agent works in the checkout with its own tools) cannot make this
  // git run a filter, textconv or any other program.
  const ctx = {
    signal,
    house: rec.house,
    workspaceRoots: [co.path],
    log: jlog,
  } as ToolContext
  let repo: CheckedRepo
  try {
    repo = await resolveRepo('.', ctx)
  } catch (err) {
    return {
      status: 'failure',
      error: {
        rule: 'implement',
        reason: `the checkout is no longer a repository the bot may run git in: ${err instanceof Error ? err.message : String(err)}`,
      },
      evidence,
      notes,
    }
  }
  const g = (args: string[], input?: string) => git(repo, args, ctx, input === undefined ? {} : { input })
  const changes = await g(['status', '--porcelain', '--untracked-files=all', IGNORE_SUBMODULES])
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
  const named = await g(['config', '--get', 'user.email']).catch(() => '')
  if (named.trim() === '') {
    await g(['config', 'user.name', `${rec.house} (uni-wizard agent)`])
    await g(['config', 'user.email', `${rec.house}@uni-wizard.invalid`])
  }
  // What gets approved, committed and pushed is a snapshot: everything the agent changed, staged,
  // written as a tree. The commit is made from that tree on the commit the checkout started from
  // (one commit, none of the agent's own history), so nothing changed later can slip in.
  const snapshot = async (): Promise<string> => {
    await g(['add', '--all', '--', '.'])
    return (await g(['write-tree'])).trim()
  }
  let tree = await snapshot()
  const span = () => `${co.commit}..${tree}`
  let pushOptions: ExecuteOptions = { ...run.options, signal }
  const mode = run.options.mode
  if (deps.harness.needsApproval('git_push', mode) || deps.harness.needsApproval('gitea_create_pr', mode)) {
    // The house asks approval for writes: the push and the pull request wait for a sovereign's
    // approval of this exact change; a change that differs by the approval needs a new one.
    let approved: Decision | undefined
    for (let round = 0; round < 3 && !approved; round++) {
      const asked = tree
      const files = (await g(['diff-tree', '-r', '--name-status', '--no-renames', co.commit, asked]))
        .trim()
        .split('\n')
        .filter(Boolean)
      const d = deps.decide
        ? await deps.decide(
            {
              id: `diff-${asked.slice(0, 12)}`,
              what: `pushing branch ${branch} and opening a pull request with the change from ${co.commit.slice(0, 12)} to tree ${asked.slice(0, 12)} (${files.length} file(s): ${files.slice(0, 20).join(', ').replace(/\t/g, ' ')}${files.length > 20 ? ', …' : ''})`,
              digest: taskDiffDigest(rec.tool, `${co.commit}..${asked}`),
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
          branch,
          evidence,
          notes,
        }
      tree = await snapshot()
      if (tree === asked) approved = d
      else
        notes.push(
          `the change differed by the time it was approved (tree ${asked.slice(0, 12)}… became ${tree.slice(0, 12)}…); approval was asked again`,
        )
    }
    if (!approved)
      return {
        status: 'failure',
        error: { rule: 'approval-denied', reason: 'the change kept changing while approval was asked' },
        branch,
        evidence,
        notes,
      }
    pushOptions = {
      ...pushOptions,
      approval: approved.approval as never,
      task: { tool: rec.tool, args: rec.args, diff: span() },
    }
  }
  // The signed diff digest: the whole diff, never a cut one.
  const diffText = await gitRaw(
    repo,
    ['diff-tree', '-p', '--binary', '--no-textconv', '--no-ext-diff', '-r', co.commit, tree],
    ctx,
  )
  if (diffText.code !== 0 || diffText.truncatedBytes > 0)
    return {
      status: 'failure',
      error: {
        rule: 'implement',
        reason:
          diffText.code !== 0
            ? `the diff could not be read: ${diffText.stderr.slice(0, 200)}`
            : `the change is larger than one diff the bot signs (over ${Math.round(diffText.stdout.length / 1024)} KiB shown; toolSettings.exec.maxOutputBytes)`,
        fix: 'ask for a smaller change',
      },
      branch,
      evidence,
      notes,
    }
  const diffSha256 = createHash('sha256').update(diffText.stdout).digest('hex')
  const message = `${prompt.title.slice(0, 200)} (#${rec.origin.issue})\n\nImplemented by house ${rec.house}'s agent, job ${rec.id}.\n`
  const head = (await g(['commit-tree', tree, '-p', co.commit, '-F', '-'], message)).trim()
  await g(['update-ref', `refs/heads/${branch}`, head])
  evidence.push({
    kind: 'git-commit-tree',
    summary: `commit ${head.slice(0, 12)} of tree ${tree.slice(0, 12)} on ${co.commit.slice(0, 12)}, as branch ${branch}`,
    detail: { commit: head, tree, parent: co.commit, branch, diffSha256 },
  })
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
        ...(proof?.output ? { proofOutput: proof.output } : {}),
        diffSha256,
        branch,
        evidence,
        notes,
      }
    }
  }
  const jobComment = ackCommentUrl(rec.origin.commentUrl, rec.ackCommentId)
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
    `Commit \`${head}\` from \`${co.commit}\`; diff sha256 \`${diffSha256}\`. The job's comment${jobComment ? ` (${jobComment})` : ''} carries the signed provenance (\`uni-wizard verify\`).`,
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
