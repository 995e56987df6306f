/**
 * The port every agent backend implements (docs/AGENTS.md). A house with an `agent` hands a task
 * to one: the Hermes backend drives a run on a Hermes Agent API server (the agent runs its own
 * tools on the house's machine); the OpenAI-compatible backend runs the tool-calling loop here,
 * every tool call going through `AgentRunContext.executeTool` (the worker wires it to
 * `Harness.execute`, so the house policy applies to each call). The worker never knows which
 * backend it drives: it stores the events, renders the checklist, signs the outcome.
 */

/** Token counts as the backend reported them (0 where it reports none). */
export interface AgentUsage {
  inputTokens: number
  outputTokens: number
  totalTokens: number
}

/** One step of a run, as the worker stores and shows it. Times are epoch milliseconds. */
export type AgentEvent =
  /** The backend accepted the run; `runId` is its own id (Hermes `run_…`, or the loop's). */
  | { kind: 'run.started'; at: number; runId: string; replayed?: boolean }
  /** Text the agent wrote (a delta or a whole message; `final` on the answer). */
  | { kind: 'message'; at: number; text: string; final?: boolean }
  /** A tool call began. `args` is a short, already-redacted preview, never secrets. */
  | { kind: 'tool.started'; at: number; callId: string; tool: string; args?: string }
  /** A tool call ended. `status` is the harness's status where the loop ran it, else `success`/`failure`. */
  | {
      kind: 'tool.finished'
      at: number
      callId: string
      tool: string
      status: string
      summary?: string
      durationMs?: number
    }
  /** The agent asks a sovereign to approve an action (Hermes `approval.request`, a write under an approval policy). */
  | { kind: 'approval.requested'; at: number; requestId: string; description: string; command?: string }
  | { kind: 'approval.answered'; at: number; requestId: string; decision: AgentApprovalDecision; by?: string }
  | { kind: 'usage'; at: number; usage: AgentUsage }
  /** The event stream dropped; the backend now polls the run's status (events in between are lost, as Hermes drops them). */
  | { kind: 'stream.lost'; at: number; reason: string }
  /** A backend-specific event the worker keeps in the log but does not show (Hermes reasoning, keepalives are not events). */
  | { kind: 'note'; at: number; text: string }

export type AgentApprovalDecision = 'approve' | 'deny'

/** How a run ended. `limit`: a configured limit (turns, wall time, tokens) stopped it. */
export type AgentRunStatus = 'completed' | 'failed' | 'cancelled' | 'interrupted' | 'limit'

export interface AgentOutcome {
  status: AgentRunStatus
  /** The final answer or summary (completed runs; a partial text otherwise, if any). */
  answer?: string
  /** Why it did not complete, in words a user can act on. */
  error?: string
  /** The backend's run id (Hermes `run_…`); signed into provenance. */
  runId?: string
  /** The model as the backend reported it (else the requested one). */
  model?: string
  usage: AgentUsage
  /** Model turns taken (openai loop) or tool calls seen (hermes). */
  turns: number
}

/** Limits a house's agent config sets; the backend enforces the ones it can see. */
export interface AgentLimits {
  maxTurns: number
  wallMs: number
  /** Tokens (input + output) one job may use; the run stops with `limit` beyond it. */
  maxTokens: number
}

/** One task for an agent. */
export interface AgentTask {
  /**
   * Stable for the job's run (job id + run number): the Hermes `Idempotency-Key`, so a worker
   * that dies and is replaced resumes the same run instead of starting a second one.
   */
  key: string
  /** The system prompt: role, rules, what the agent may and may not do. */
  instructions: string
  /** The user prompt: the issue, the question or instructions, already sanitised. */
  input: string
  model?: string
  limits: AgentLimits
}

/** A tool offered to a loop-running backend (the openai one): name, description, JSON Schema of its args. */
export interface AgentToolOffer {
  name: string
  description: string
  parameters: Record<string, unknown>
}

/** What a tool call returned, as the model is told. */
export interface AgentToolOutcome {
  /** The harness status (`success`, `failure`, `denied`, `unverified`, ...). */
  status: string
  /** Text for the model: redacted, capped output or the reason it did not run. */
  content: string
}

/** What the worker gives a backend for one run. */
export interface AgentRunContext {
  /** Aborted on `/cancel` or shutdown: the backend stops the run (Hermes stop, loop abort). */
  signal: AbortSignal
  /** Called once per event, in order, as it arrives; awaited (the worker stores it before going on). */
  onEvent(event: AgentEvent): Promise<void>
  /** Waits for a sovereign's answer to an approval request (the worker posts it in the issue). */
  askApproval(request: {
    requestId: string
    description: string
    command?: string
  }): Promise<AgentApprovalDecision>
  /** Tools the loop may offer (empty for Hermes, whose agent has its own). */
  tools: readonly AgentToolOffer[]
  /** Runs one tool call under the house policy (`Harness.execute` in the job's checkout). */
  executeTool(name: string, args: unknown, signal: AbortSignal): Promise<AgentToolOutcome>
}

/** A backend: runs a task to its end and says how it ended. It never throws for a run that failed; it throws only for its own bugs. */
export interface AgentBackend {
  readonly kind: 'hermes' | 'openai'
  run(task: AgentTask, ctx: AgentRunContext): Promise<AgentOutcome>
  /** Whether the endpoint answers (health views, `/ready`). */
  health(signal?: AbortSignal): Promise<{ ok: boolean; detail?: string }>
}
