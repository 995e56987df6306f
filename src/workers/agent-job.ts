import { isAbsolute, relative } from 'node:path'
import { z } from 'zod'
import type { AgentApprovalDecision, AgentEvent, AgentOutcome } from '../agents/agent-port.js'
import { toolOffers } from '../agents/openai/tool-offers.js'
import { codeBlock, codeSpan, inlineText } from '../commands-core/markdown.js'
import { agentTaskOf, taskWrites, type AgentTaskKind } from '../agents/task-kind.js'
import type { ExtraProof } from '../harness/harness-options.js'
import type { ToolResult } from '../harness/tool-result.js'
import { digestOf } from '../provenance/canonical-json.js'
import { callDigest } from '../harness/approvals/approval.js'
import type { AgentFacts } from '../provenance/statement.js'
import type { AgentSummary } from '../report/agent-steps.js'
import { AgentRunLog, STEPS_SHOWN } from './agent-run-log.js'
import type { Evidence, ToolSpec } from '../tools/tool.js'
import { storedResult, type StoredResult } from '../jobs/stored-result.js'
import type { JobRecord } from '../jobs/job-store.js'
import { finishImplementation, gitIn } from './agent-implementation.js'
import type { AgentJobDeps, AgentJobRun } from './agent-job-types.js'

export type {
  AgentJobDeps,
  AgentJobRun,
  AgentRuntime,
  Decision,
  DecisionRequest,
  TaskCheckout,
  TaskPrompt,
} from './agent-job-types.js'

/** The task a run was first started with, as kept in Redis. */
const KeptTask = z.object({ instructions: z.string(), input: z.string() })

/** How much of a tool's output goes back to the model. */
const TOOL_CONTENT_CAP = 16_000
/** How much of the transcript the final comment shows. */
const TRANSCRIPT_CAP = 20_000
/** The most characters of a diff given to a reviewing agent. */
const REVIEW_DIFF_CAP = 200_000

const FileReadData = z.object({ path: z.string(), sha256: z.string() }).partial().passthrough()

/**
 * The tools a task may offer: the house's (its policy decides, as for `/run`), read-only ones for
 * a task that only reads. Their JSON Schema comes from their zod arguments.
 */
function taskTools(
  tools: readonly ToolSpec[],
  allowed: (t: ToolSpec) => boolean,
  kind: AgentTaskKind,
): ToolSpec[] {
  return tools.filter((t) => allowed(t) && (taskWrites(kind) || t.access === 'read'))
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

  const runLog = new AgentRunLog({
    redact,
    appendEvent: deps.appendEvent,
    showProgress: deps.showProgress,
    progressMs: deps.progressMs,
    log: jlog,
    now,
    ...(deps.emitEvent ? { emit: deps.emitEvent } : {}),
  })
  const earlier = (await deps.storedEvents?.()) ?? []
  runLog.resume(earlier)
  if (earlier.length > 0)
    jlog.info({ events: earlier.length }, 'taking over an agent run: its stored events come first')

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
      diff = await gitIn(
        run.checkout.path,
        [
          'diff',
          '--no-color',
          '--no-ext-diff',
          '--no-textconv',
          `origin/${run.checkout.pull.baseRef}...HEAD`,
        ],
        signal,
        jlog,
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
  // A run taken over after its worker died resumes with the task it was started with (the issue
  // may have new comments by now; a Hermes run is keyed on the exact request).
  if (deps.keepTask) {
    const kept = KeptTask.safeParse(
      JSON.parse(await deps.keepTask(JSON.stringify({ instructions: task.instructions, input: task.input }))),
    )
    if (kept.success) {
      task.instructions = kept.data.instructions
      task.input = kept.data.input
    }
  }
  const promptSha256 = digestOf({ instructions: task.instructions, input: task.input }).replace(
    /^sha256:/,
    '',
  )
  // The house's daily budget, counted as usage is reported: a spent budget stops the run.
  const budgetStop = new AbortController()
  let overBudget: string | undefined
  let overTurns: string | undefined
  let toolCalls = 0
  const runSignal = AbortSignal.any([signal, budgetStop.signal])
  const onEvent = async (e: AgentEvent): Promise<void> => {
    await runLog.record(e)
    // A Hermes agent's turns are its tool calls (it reports no model turns): the house's maxTurns
    // stops it there; the OpenAI-compatible loop counts its model requests itself.
    if (e.kind === 'tool.started' && deps.agent.backend.kind === 'hermes' && overTurns === undefined) {
      toolCalls += 1
      if (toolCalls > deps.agent.limits.maxTurns) {
        overTurns = `the agent went past maxTurns (${deps.agent.limits.maxTurns} tool calls)`
        budgetStop.abort()
      }
    }
    if (e.kind === 'usage' && deps.spend && overBudget === undefined) {
      overBudget = await deps.spend(e.usage.totalTokens).catch(() => undefined)
      if (overBudget !== undefined) budgetStop.abort()
    }
  }
  const ctx = {
    signal: runSignal,
    onEvent,
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
          id: `agent-${req.requestId.replace(/[^A-Za-z0-9_.-]/g, '-')}`.slice(0, 100),
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
    tools: toolOffers(offered),
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
  await runLog.flush()

  const answer = redact(outcome.answer ?? '')
  let status: ToolResult['status'] = 'success'
  let error: { rule: string; reason: string; fix?: string } | undefined
  if (overTurns !== undefined && !signal.aborted) {
    status = 'timeout'
    error = {
      rule: 'agent-limit',
      reason: overTurns,
      fix: "raise the house's agent.limits.maxTurns, or narrow the task",
    }
  } else if (overBudget !== undefined && !signal.aborted) {
    status = 'failure'
    error = {
      rule: 'agent-budget',
      reason: overBudget,
      fix: `\`/retry ${rec.id}\` tomorrow, or raise the house's dailyTokenBudget`,
    }
  } else if (outcome.status !== 'completed') {
    status = outcome.status === 'cancelled' ? 'cancelled' : outcome.status === 'limit' ? 'timeout' : 'failure'
    error = {
      rule: outcome.status === 'limit' ? 'agent-limit' : `agent-${outcome.status}`,
      reason: `the agent's run ended ${outcome.status}: ${redact(outcome.error ?? 'no reason given')}`,
      ...(outcome.status === 'cancelled' ? {} : { fix: `\`/retry ${rec.id}\`` }),
    }
  }

  const evidence: Evidence[] = []
  let proofEvidence: ExtraProof['evidence'] | undefined
  let proofOutput: string | undefined
  let pullRequest: { number: number; url: string } | undefined
  let diffSha256: string | undefined
  let branch: string | undefined
  if (status === 'success' && kind === 'implement') {
    const done = await finishImplementation(deps, run, prompt, answer, jlog)
    status = done.status
    error = done.error
    proofEvidence = done.proof
    proofOutput = done.proofOutput
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
    eventLog: { sha256: runLog.digest(), events: runLog.events },
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
  const full = runLog.transcriptText()
  const summary: AgentSummary = {
    backend: deps.agent.backend.kind,
    ...(facts.model !== undefined ? { model: facts.model } : {}),
    steps: runLog.steps.slice(-STEPS_SHOWN),
    earlier: Math.max(0, runLog.steps.length - STEPS_SHOWN),
    transcript:
      full.length > TRANSCRIPT_CAP
        ? `${full.slice(0, TRANSCRIPT_CAP)}\n[... ${full.length - TRANSCRIPT_CAP} more characters in the event log]`
        : full,
    totalTokens: outcome.usage.totalTokens,
    durationMs: performance.now() - t0,
    ...(pullRequest && kind === 'implement' ? { pullRequest } : {}),
    ...(branch !== undefined && !pullRequest ? { branch } : {}),
    ...(proofOutput !== undefined ? { proofOutput: redact(proofOutput).slice(-12_000) } : {}),
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
  jlog.info({ status, events: runLog.events, tokens: outcome.usage.totalTokens }, 'agent task finished')
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
  // The agent's text is shown inert (in a code block): a PR's author, whose diff the agent read,
  // must not get the bot to post live markdown (mentions, images that fetch, fake headings).
  return [
    `Review by house **${inlineText(rec.house)}**'s agent (job ${codeSpan(rec.id)}): comments only; an agent never approves or merges.`,
    '',
    codeBlock(answer, 'text'),
  ].join('\n')
}
