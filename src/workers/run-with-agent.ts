import { randomUUID } from 'node:crypto'
import type { AgentBackend, AgentEvent, AgentLimits } from '../agents/agent-port.js'
import { buildPrompt } from '../agents/prompt/index.js'
import { agentJobName } from '../agents/task-kind.js'
import type { Harness } from '../harness/harness.js'
import type { ToolSpec } from '../tools/tool.js'
import { builtinTools } from '../tools/builtin-tools.js'
import { JobRecord } from '../jobs/job-store.js'
import type { StoredResult } from '../jobs/stored-result.js'
import { pino } from 'pino'
import { runAgentJob } from './agent-job.js'

/** What `runWithAgent` returns: the answer, every event, and the signed result. */
export interface AgentRunResult {
  status: StoredResult['status']
  answer: string
  events: AgentEvent[]
  /** The result as a job stores it: the in-toto statement and its DSSE envelope included. */
  result: StoredResult
}

/**
 * The design's `run_with_hermes(prompt, model)`, for any backend: one call runs a read-only task
 * (`ask`) on a house's agent in `workspace` under the house's policy (every tool call of an
 * OpenAI-compatible loop is a `harness.execute` confined to it) and returns the answer, the
 * events as they came, and the signed statement, as a `/ask` job would.
 *
 * @example
 *   const harness = new Harness({ house: 'ezra', sign: true })
 *   const backend = new HermesBackend({ endpoint: 'http://ezra.local:8642', apiKey: process.env.EZRA_KEY! })
 *   const { answer, result } = await runWithAgent({ harness, backend, prompt: 'Where are retries decided?',
 *     workspace: '/srv/repos/api', requestedBy: 'alice' })
 */
export async function runWithAgent(opts: {
  harness: Harness
  backend: AgentBackend
  prompt: string
  /** The directory the agent's tools work in (and a Hermes agent is told about). */
  workspace: string
  requestedBy: string
  model?: string
  limits?: Partial<AgentLimits>
  tools?: readonly ToolSpec[]
  signal?: AbortSignal
  /** Values that must never reach the prompt, the events or the result. */
  secrets?: readonly (string | undefined)[]
}): Promise<AgentRunResult> {
  const id = `lib-${randomUUID()}`
  const house = opts.harness.house
  const tool = agentJobName('ask')
  const now = new Date().toISOString()
  const rec = JobRecord.parse({
    id,
    runId: id,
    run: 1,
    state: 'running',
    house,
    tool,
    args: { text: opts.prompt },
    mode: 'SIMPLE',
    dryRun: false,
    requester: { login: opts.requestedBy, id: 0 },
    origin: {
      deliveryId: id,
      repo: { owner: 'local', name: 'workspace' },
      issue: 0,
      commentUrl: '',
      command: '',
    },
    approvalRequired: false,
    approvers: [],
    approvalTtlSeconds: 3600,
    digest: '',
    ackCommentKey: id,
    createdAt: now,
    retryKeys: [],
  })
  const events: AgentEvent[] = []
  const result = await runAgentJob(
    {
      house,
      harness: opts.harness,
      tools: opts.tools ?? builtinTools,
      agent: {
        backend: opts.backend,
        ...(opts.model !== undefined ? { model: opts.model } : {}),
        limits: { maxTurns: 30, wallMs: 30 * 60_000, maxTokens: 200_000, ...opts.limits },
      },
      prompt: async () => {
        const built = buildPrompt('ask', {
          house: { name: house },
          repo: opts.workspace,
          number: 0,
          conversation: { comments: [], leftOut: { noWriteAccess: 0, bots: 0 }, note: '' },
          request: { author: opts.requestedBy, text: opts.prompt },
          secrets: opts.secrets ?? [],
        })
        return { instructions: built.instructions, input: built.input, title: opts.prompt.slice(0, 80) }
      },
      appendEvent: async (line) => events.push(JSON.parse(line) as AgentEvent),
      showProgress: async () => undefined,
      progressMs: 60_000,
      log: pino({ level: 'silent' }),
    },
    {
      rec,
      signal: opts.signal ?? new AbortController().signal,
      checkout: undefined,
      workdir: opts.workspace,
      options: {
        requestedBy: opts.requestedBy,
        job: { id, runId: id },
        workspaceRoots: [opts.workspace],
        task: { tool, args: rec.args },
      },
    },
  )
  return { status: result.status, answer: result.output, events, result }
}
