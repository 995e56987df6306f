import { createHash } from 'node:crypto'
import { isAbsolute, relative } from 'node:path'
import { z } from 'zod'
import type {
  AgentApprovalDecision,
  AgentBackend,
  AgentEvent,
  AgentLimits,
  AgentOutcome,
  AgentToolOffer,
} from '../agents/agent-port.js'
import { agentTaskOf, taskWrites, type AgentTaskKind } from '../agents/task-kind.js'
import type { Harness } from '../harness/harness.js'
import type { ExecuteOptions, ExtraProof } from '../harness/harness-options.js'
import type { ToolResult } from '../harness/tool-result.js'
import type { Logger } from '../logger.js'
import { digestOf } from '../provenance/canonical-json.js'
import { callDigest, taskDiffDigest } from '../harness/approvals/approval.js'
import type { AgentFacts } from '../provenance/statement.js'
import type { AgentProgress, AgentStep, AgentSummary } from '../report/agent-steps.js'
import type { Evidence, ToolSpec } from '../tools/tool.js'
import { storedResult, type StoredResult } from '../jobs/stored-result.js'
import type { JobRecord } from '../jobs/job-store.js'
import { checkoutEnv, runGit } from '../checkouts/checkout-git.js'

/** A house's agent as the worker drives it. */
export interface AgentRuntime {
  backend: AgentBackend
  model?: string
  limits: AgentLimits
}

/** What the prompt of a task is built from and what it came to (docs/AGENTS.md, "Safety"). */
export interface TaskPrompt {
  instructions: string
  input: string
  /** The issue's or pull request's title (the implementation's pull request is named after it). */
  title: string
}

/** Where a task works: its checkout (path, commit it started on, the repository's clone URL). */
export interface TaskCheckout {
  path: string
  commit: string
  repo: { owner: string; name: string }
  /** The branch a pull request of the task merges into (the default branch). */
  baseBranch: string | undefined
  /** For a `/review`: the pull request and its base branch (fetched into the checkout). */
  pull?: { number: number; baseRef: string }
}

/** What the worker gives an agent job besides the record. */
export interface AgentJobDeps {
  house: string
  harness: Harness
  tools: readonly ToolSpec[]
  agent: AgentRuntime
  /** Builds the task's prompt from the issue (only text by writers; sanitised; no secrets). */
  prompt(
    kind: AgentTaskKind,
    rec: JobRecord,
    checkout: TaskCheckout | undefined,
    diff: string | undefined,
  ): Promise<TaskPrompt>
  /** Stores one event (JSON line) of the run's log; resolves to its position. */
  appendEvent(line: string): Promise<number>
  /**
   * The events already in the run's log: those a worker that died mid-run stored before this one
   * took the job over. The log and its signed digest go on from them instead of starting again.
   */
  storedEvents?(): Promise<string[]>
  /** Stores the checklist and asks the reporter to show it (throttled by the caller: this job). */
  showProgress(progress: AgentProgress, seq: number): Promise<void>
  /** How often the checklist may be shown (ms); the last state is always shown at the end. */
  progressMs: number
  /** Posts a review of type COMMENT on the pull request; resolves to its URL. */
  postReview?(repo: { owner: string; name: string }, number: number, body: string): Promise<string>
  /** Sets a commit status on a commit of the repository (the implementation's pull request head). */
  commitStatus?(
    repo: { owner: string; name: string },
    sha: string,
    state: 'pending' | 'success' | 'failure' | 'error',
    description: string,
  ): Promise<void>
  /**
   * Asks a sovereign to decide (the job's comment shows the request; `/approve <job>` or `/deny
   * <job>` answers) and waits for the answer, the job's cancel, or the request's expiry (a deny).
   * Without it every request is denied.
   */
  decide?(request: DecisionRequest, signal: AbortSignal): Promise<Decision>
  log: Logger
  now?: () => number
}

/** What a running job asks a sovereign: `digest` is what an approval is bound to. */
export interface DecisionRequest {
  id: string
  what: string
  digest: string
}

/** A sovereign's answer; `approval` is the router's attestation of the request's digest. */
export interface Decision {
  decision: 'approve' | 'deny'
  by?: string
  reason?: string
  approval?: unknown
}

/** One agent job's run. */
export interface AgentJobRun {
  rec: JobRecord
  checkout: TaskCheckout | undefined
  signal: AbortSignal
  /** The options every tool call of the job shares (requester, job, checkout roots, provenance). */
  options: ExecuteOptions
  /** The repository's proof commands (`.uni-wizard.yaml`), when there are any and they may run. */
  proof?: (signal: AbortSignal) => Promise<ExtraProof>
  /** Why the proof cannot run (they are off on this worker), when there are some. */
  proofUnavailable?: string
  /** The repository's own branch prefix (`.uni-wizard.yaml`), if any. */
  branchPrefix?: string
  /** Where the task works when it has no checkout (the library's static workspace). */
  workdir?: string
}

/** How much of a tool's output goes back to the model. */
const TOOL_CONTENT_CAP = 16_000
/** How much of the transcript the final comment shows. */
const TRANSCRIPT_CAP = 20_000
/** How many steps a comment lists (the newest). */
const STEPS_SHOWN = 60
/** The most characters of a diff given to a reviewing agent. */
const REVIEW_DIFF_CAP = 200_000

const FileReadData = z.object({ path: z.string(), sha256: z.string() }).partial().passthrough()

/**
 * The tools a task may offer: the house's (its policy decides, as for `/run`), read-only ones for
 * a task that only reads. Their JSON Schema comes from their zod arguments.
 */
export function taskTools(
  tools: readonly ToolSpec[],
  allowed: (t: ToolSpec) => boolean,
  kind: AgentTaskKind,
): ToolSpec[] {
  return tools.filter((t) => allowed(t) && (taskWrites(kind) || t.access === 'read'))
}

/** A tool offered to a model: name, description, JSON Schema of its arguments. */
export function toolOffer(t: ToolSpec): AgentToolOffer {
  let parameters: Record<string, unknown>
  try {
    parameters = z.toJSONSchema(t.args, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  } catch {
    parameters = { type: 'object' }
  }
  delete parameters.$schema
  return { name: t.name, description: t.description, parameters }
}

async function git(cwd: string, args: string[], signal: AbortSignal): Promise<string> {
  const r = await runGit(['-C', cwd, ...args], { env: checkoutEnv(undefined, {}), signal })
  if (r.code !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr.slice(0, 300)}`)
  return r.stdout
}

/**
 * Runs one agent task (`agent.ask`, `agent.implement`, `agent.review`) to its signed result:
 * prompt, the backend's run (every event stored as it arrives, the checklist shown at most every
 * `progressMs`), then per task: the answer; the proof, commit, push, pull request and commit status
 * of an implementation; the review comment. Never throws for an ordinary failure: the result says
 * what happened.
 */
export async function runAgentJob(deps: AgentJobDeps, run: AgentJobRun): Promise<StoredResult> {
  const { rec, signal } = run
  const kind = agentTaskOf(rec.tool)
  if (!kind) throw new Error(`${rec.tool} is not an agent task`)
  const now = deps.now ?? Date.now
  const startedAt = now()
  const t0 = performance.now()
  const redact = (s: string) => deps.harness.redactText(s)
  const jlog = deps.log.child({ jobId: rec.id, runId: rec.runId, task: kind })

  // The event log: one canonical JSON line per event, hashed as it is stored.
  const logHash = createHash('sha256')
  let events = 0
  const transcript: string[] = []
  const steps: AgentStep[] = []
  const stepIndex = new Map<string, number>()
  let lastMessage: string | undefined
  let totalTokens = 0
  let waitingFor: string | undefined
  let seq = 0
  let shownAt = 0
  let pending: NodeJS.Timeout | undefined

  const progress = (): AgentProgress => ({
    steps: steps.slice(-STEPS_SHOWN),
    earlier: Math.max(0, steps.length - STEPS_SHOWN),
    ...(lastMessage !== undefined ? { message: lastMessage.slice(-500) } : {}),
    totalTokens,
    updatedAt: new Date(now()).toISOString(),
    ...(waitingFor !== undefined ? { waitingFor } : {}),
  })
  const show = async (): Promise<void> => {
    pending = undefined
    shownAt = now()
    seq += 1
    await deps
      .showProgress(progress(), seq)
      .catch((err: unknown) => jlog.warn({ err }, 'checklist not shown'))
  }
  // At most one checklist edit per window; a change inside the window is shown when it closes.
  const changed = (): void => {
    if (pending) return
    const wait = Math.max(0, shownAt + deps.progressMs - now())
    pending = setTimeout(() => void show(), wait)
    pending.unref?.()
  }

  const record = async (e: AgentEvent): Promise<void> => {
    const line = redact(JSON.stringify(e))
    logHash.update(`${line}\n`)
    events += 1
    await deps.appendEvent(line)
    apply(e)
    changed()
  }
  /** What an event changes in the checklist and the transcript. */
  const apply = (e: AgentEvent): void => {
    switch (e.kind) {
      case 'message':
        lastMessage = redact(e.text)
        if (e.final || transcript.length === 0 || !transcript[transcript.length - 1]?.startsWith('agent: '))
          transcript.push(`agent: ${lastMessage}`)
        else transcript[transcript.length - 1] += redact(e.text)
        break
      case 'tool.started': {
        stepIndex.set(e.callId, steps.length)
        steps.push({
          tool: e.tool,
          status: 'running',
          ...(e.args !== undefined ? { args: redact(e.args).slice(0, 300) } : {}),
        })
        transcript.push(`tool ${e.tool} ${e.args ?? ''}`.trim())
        break
      }
      case 'tool.finished': {
        const i = stepIndex.get(e.callId)
        const step = i === undefined ? undefined : steps[i]
        if (step) {
          step.status = e.status.slice(0, 40)
          if (e.durationMs !== undefined) step.durationMs = e.durationMs
        } else steps.push({ tool: e.tool, status: e.status.slice(0, 40) })
        transcript.push(`  -> ${e.status}${e.summary ? `: ${redact(e.summary).slice(0, 300)}` : ''}`)
        break
      }
      case 'usage':
        totalTokens = e.usage.totalTokens
        break
      case 'approval.requested':
        waitingFor = redact(e.description).slice(0, 500)
        transcript.push(`approval asked: ${waitingFor}`)
        break
      case 'approval.answered':
        waitingFor = undefined
        transcript.push(`approval ${e.decision}`)
        break
      case 'stream.lost':
        transcript.push(`(event stream lost: ${e.reason}; events until the end of the run are not shown)`)
        break
      default:
        break
    }
  }
  // A worker that took this run over (its first worker died): the stored log is the run's log,
  // so the signed digest covers what the first worker stored too, and the checklist keeps its
  // steps. A Hermes run resumes under the same key; without this the log would seem to restart.
  const earlier = (await deps.storedEvents?.()) ?? []
  for (const line of earlier) {
    logHash.update(`${line}\n`)
    events += 1
    try {
      apply(JSON.parse(line) as AgentEvent)
    } catch {
      // A line this worker cannot read still counts in the digest; it just shows nothing.
    }
  }
  if (earlier.length > 0) {
    jlog.info({ events: earlier.length }, 'taking over an agent run: its stored events come first')
    transcript.push(
      `(the worker running this job stopped; another took it over after ${earlier.length} events)`,
    )
  }

  // What the task read (path and digest) and did, from its own tool calls.
  const filesRead = new Map<string, string>()
  const offered = taskTools(deps.tools, (t) => allowedByHouse(deps, t), kind)
  const offeredNames = new Set(offered.map((t) => t.name))
  const executeTool = async (name: string, args: unknown, callSignal: AbortSignal) => {
    if (!offeredNames.has(name))
      return {
        status: 'denied',
        content: `${name} is not a tool of this task (${taskWrites(kind) ? 'not allowed for this house' : 'this task only reads'}); use one of: ${[...offeredNames].join(', ')}`,
      }
    let result: ToolResult = await deps.harness.execute(name, args, { ...run.options, signal: callSignal })
    if (result.status === 'denied' && result.error?.rule === 'approval-required' && deps.decide) {
      // A call that leaves the checkout (a push, a Gitea write) under an approval policy: a
      // sovereign decides on this exact call, and an approval is bound to its digest.
      const spec = deps.tools.find((t) => t.name === name)
      const parsed = spec?.args.safeParse(args)
      if (parsed?.success) {
        const d = await deps.decide(
          {
            id: `call-${callDigest(name, parsed.data).slice(7, 19)}`,
            what: redact(`${name} ${JSON.stringify(parsed.data)}`).slice(0, 900),
            digest: callDigest(name, parsed.data),
          },
          callSignal,
        )
        if (d.decision === 'approve')
          result = await deps.harness.execute(name, args, {
            ...run.options,
            signal: callSignal,
            approval: d.approval as never,
          })
        else
          return {
            status: 'denied',
            content: `a sovereign denied this call${d.reason ? `: ${redact(d.reason)}` : ''}`,
          }
      }
    }
    if (result.status === 'success' && name === 'file_read') {
      const data = FileReadData.safeParse(result.data)
      const path = data.success ? (data.data.path ?? argPath(args)) : argPath(args)
      const digest = data.success ? data.data.sha256 : undefined
      const root = run.checkout?.path
      if (path && digest) filesRead.set(root && isAbsolute(path) ? relative(root, path) : path, digest)
    }
    const body =
      result.status === 'success' || result.status === 'unverified'
        ? result.output
        : `${result.status}: ${result.error?.reason ?? 'no reason given'}${result.error?.fix ? ` (fix: ${result.error.fix})` : ''}`
    return { status: result.status, content: body.slice(0, TOOL_CONTENT_CAP) }
  }

  let diff: string | undefined
  if (kind === 'review' && run.checkout?.pull) {
    try {
      diff = await git(
        run.checkout.path,
        ['diff', '--no-color', '--no-ext-diff', `origin/${run.checkout.pull.baseRef}...HEAD`],
        signal,
      )
      diff = redact(diff).slice(0, REVIEW_DIFF_CAP)
    } catch (err) {
      jlog.warn({ err }, 'pull request diff not read')
    }
  }
  const prompt = await deps.prompt(kind, rec, run.checkout, diff)

  // A Hermes agent runs its own tools on the house's machine, where this worker runs too: it is
  // told where the job's checkout is (an OpenAI-compatible loop's tools are confined to it anyway).
  const dir = run.checkout?.path ?? run.workdir
  const where =
    deps.agent.backend.kind === 'hermes' && dir !== undefined
      ? `\n\nWork only in the directory ${dir} (this job's checkout${run.checkout ? ` of ${run.checkout.repo.owner}/${run.checkout.repo.name}` : ''}); change nothing outside it.`
      : ''
  const task = {
    key: `uw-${rec.runId}`,
    instructions: `${prompt.instructions}${where}`,
    input: prompt.input,
    ...(deps.agent.model !== undefined ? { model: deps.agent.model } : {}),
    limits: deps.agent.limits,
  }
  const promptSha256 = digestOf({ instructions: task.instructions, input: task.input }).replace(
    /^sha256:/,
    '',
  )
  const ctx = {
    signal,
    onEvent: record,
    // The agent's own approval requests (Hermes runs its tools on its machine) go to a sovereign.
    askApproval: async (req: {
      requestId: string
      description: string
      command?: string
    }): Promise<AgentApprovalDecision> => {
      if (!deps.decide) return 'deny'
      const what = redact(
        `the agent asks to ${req.command ? `run \`${req.command}\`` : req.description}`,
      ).slice(0, 900)
      const d = await deps.decide(
        {
          id: `agent-${req.requestId}`.slice(0, 200),
          what,
          digest: digestOf({
            job: rec.id,
            run: rec.runId,
            request: req.requestId,
            description: req.description,
            command: req.command ?? null,
          }),
        },
        signal,
      )
      return d.decision
    },
    tools: offered.map(toolOffer),
    executeTool,
  }
  let outcome: AgentOutcome = await deps.agent.backend.run(task, ctx)
  const notes: string[] = []
  if (outcome.status === 'interrupted' && !signal.aborted) {
    // Hermes lost the run (a restart): once more under the same job, as a new run.
    notes.push(
      `the agent's first run was interrupted (${outcome.error ?? 'no reason given'}); it was run once more`,
    )
    outcome = await deps.agent.backend.run({ ...task, key: `${task.key}.2` }, ctx)
  }
  // The steps as they ended, before anything the task still does (a push may wait for approval).
  if (pending) clearTimeout(pending)
  await show()

  const answer = redact(outcome.answer ?? '')
  let status: ToolResult['status'] = 'success'
  let error: { rule: string; reason: string; fix?: string } | undefined
  if (outcome.status !== 'completed') {
    status = outcome.status === 'cancelled' ? 'cancelled' : outcome.status === 'limit' ? 'timeout' : 'failure'
    error = {
      rule: outcome.status === 'limit' ? 'agent-limit' : `agent-${outcome.status}`,
      reason: `the agent's run ended ${outcome.status}: ${redact(outcome.error ?? 'no reason given')}`,
      ...(outcome.status === 'cancelled' ? {} : { fix: `\`/retry ${rec.id}\`` }),
    }
  }

  const evidence: Evidence[] = []
  let proofEvidence: ExtraProof['evidence'] | undefined
  let pullRequest: { number: number; url: string } | undefined
  let diffSha256: string | undefined
  let branch: string | undefined
  if (status === 'success' && kind === 'implement') {
    const done = await finishImplementation(deps, run, prompt, answer, jlog)
    status = done.status
    error = done.error
    proofEvidence = done.proof
    pullRequest = done.pullRequest
    diffSha256 = done.diffSha256
    branch = done.branch
    evidence.push(...done.evidence)
    notes.push(...done.notes)
  }
  if (status === 'success' && kind === 'review') {
    if (!run.checkout?.pull || !deps.postReview) {
      status = 'failure'
      error = { rule: 'review', reason: 'this job is not on a pull request the bot can review' }
    } else {
      try {
        const url = await deps.postReview(
          run.checkout.repo,
          run.checkout.pull.number,
          reviewBody(answer, rec),
        )
        pullRequest = { number: run.checkout.pull.number, url }
        evidence.push({
          kind: 'gitea-review',
          summary: `review posted on #${run.checkout.pull.number}`,
          detail: { url },
        })
      } catch (err) {
        status = 'failure'
        error = {
          rule: 'review',
          reason: `the review could not be posted: ${redact(String(err))}`,
          fix: `\`/retry ${rec.id}\``,
        }
      }
    }
  }
  if (kind === 'ask' && filesRead.size > 0)
    evidence.push({
      kind: 'files-read',
      summary: `${filesRead.size} file(s) read, each with the digest of what was read`,
      detail: { files: Object.fromEntries(filesRead) },
    })

  const facts: AgentFacts = {
    task: kind,
    backend: deps.agent.backend.kind,
    ...((outcome.model ?? deps.agent.model) ? { model: outcome.model ?? deps.agent.model } : {}),
    ...(outcome.runId !== undefined ? { runId: outcome.runId } : {}),
    promptSha256,
    eventLog: { sha256: logHash.digest('hex'), events },
    usage: outcome.usage,
    turns: outcome.turns,
    ...(diffSha256 !== undefined ? { diffSha256 } : {}),
    ...(pullRequest ? { pullRequest } : {}),
    ...(filesRead.size > 0 ? { filesRead: [...filesRead].map(([path, sha256]) => ({ path, sha256 })) } : {}),
  }
  const result = await deps.harness.recordTask(
    {
      tool: rec.tool,
      startedAt,
      t0,
      status,
      output: answer,
      ...(error ? { error } : {}),
      argsDigest: callDigest(rec.tool, rec.args),
      evidence,
      ...(proofEvidence ? { proof: proofEvidence } : {}),
      agent: facts,
      notes,
    },
    run.options,
  )
  const stored = storedResult(result)
  const full = transcript.join('\n')
  const summary: AgentSummary = {
    backend: deps.agent.backend.kind,
    ...(facts.model !== undefined ? { model: facts.model } : {}),
    steps: steps.slice(-STEPS_SHOWN),
    earlier: Math.max(0, steps.length - STEPS_SHOWN),
    transcript:
      full.length > TRANSCRIPT_CAP
        ? `${full.slice(0, TRANSCRIPT_CAP)}\n[... ${full.length - TRANSCRIPT_CAP} more characters in the event log]`
        : full,
    totalTokens: outcome.usage.totalTokens,
    durationMs: performance.now() - t0,
    ...(pullRequest && kind === 'implement' ? { pullRequest } : {}),
    ...(branch !== undefined && !pullRequest ? { branch } : {}),
    ...(proofEvidence
      ? {
          proof: proofEvidence.map((p) => ({
            name: p.detail.name,
            exitCode: p.detail.exitCode,
            timedOut: p.detail.timedOut,
            durationMs: p.detail.durationMs,
          })),
        }
      : {}),
  }
  stored.agent = summary
  jlog.info({ status, events, tokens: outcome.usage.totalTokens }, 'agent task finished')
  return stored
}

function argPath(args: unknown): string | undefined {
  const p = (args as { path?: unknown } | null)?.path
  return typeof p === 'string' ? p : undefined
}

function allowedByHouse(deps: AgentJobDeps, t: ToolSpec): boolean {
  return deps.harness.allows(t.name)
}

/** The review's text: the agent's findings, marked as an agent's comment-only review. */
function reviewBody(answer: string, rec: JobRecord): string {
  return `${answer}\n\n---\nReview by house **${rec.house}**'s agent (job \`${rec.id}\`): comments only; an agent never approves or merges.`
}

interface Implementation {
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
async function finishImplementation(
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
  const changes = await git(co.path, ['status', '--porcelain', '--untracked-files=all'], signal)
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
  const named = await git(co.path, ['config', '--get', 'user.email'], signal).catch(() => '')
  if (named.trim() === '') {
    await git(co.path, ['config', 'user.name', `${rec.house} (uni-wizard agent)`], signal)
    await git(co.path, ['config', 'user.email', `${rec.house}@uni-wizard.invalid`], signal)
  }
  const checkout = await call('git_checkout', { ref: branch, create: true })
  if (checkout.status !== 'success') return failed('creating the branch', checkout)
  // The diff is what gets approved, committed and pushed: everything the agent changed, staged.
  const stagedDiff = async (): Promise<string> => {
    await git(co.path, ['add', '--all', '--', '.'], signal)
    const d = await git(
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
  const head = (await git(co.path, ['rev-parse', 'HEAD'], signal)).trim()
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
