/**
 * What a scripted run of the Hermes double does, step by step. A test or the sandbox supplies a
 * `HermesScript`: a function from the run's request to its steps. A run that reaches the end of
 * its steps without a `complete`, `fail` or `interrupt` completes with the text of its deltas.
 *
 * @example
 *   const script: HermesScript = ({ input }) => [
 *     { kind: 'delta', text: 'Reading ' },
 *     { kind: 'tool', tool: 'read_file', preview: 'README.md', durationMs: 10 },
 *     { kind: 'approval', command: 'git push', ifDenied: [{ kind: 'fail', error: 'push denied' }] },
 *     { kind: 'complete', output: `answered: ${input}`, usage: { inputTokens: 12, outputTokens: 4 } },
 *   ]
 */
export type HermesScriptStep =
  /** `message.delta` with this text. */
  | { kind: 'delta'; text: string }
  /** `message.interim` (mid-turn commentary). */
  | { kind: 'interim'; text: string; alreadyStreamed?: boolean }
  /** `reasoning.available`. */
  | { kind: 'reasoning'; text: string }
  /** `tool.started`, a pause of `durationMs`, then `tool.completed` (with `result` as its preview). */
  | {
      kind: 'tool'
      tool: string
      preview?: string | null
      durationMs?: number
      error?: boolean
      result?: string
    }
  /**
   * `approval.request`, status `waiting_for_approval` until `POST …/approval` answers; then
   * `approval.responded`, status `running`, and the steps of the chosen branch run before the rest.
   */
  | {
      kind: 'approval'
      command: string
      description?: string
      allowSession?: boolean
      allowPermanent?: boolean
      ifApproved?: HermesScriptStep[]
      ifDenied?: HermesScriptStep[]
    }
  /** `subagent.complete` with token counts (the only mid-run usage Hermes reports). */
  | { kind: 'subagent'; goal?: string; inputTokens: number; outputTokens: number }
  /** Waits (a stop or an interruption ends the wait early). */
  | { kind: 'sleep'; ms: number }
  /** Fault: cuts every live event connection of the run now (legacy framing: the transport is gone). */
  | { kind: 'dropStream' }
  /** Fault: writes this text verbatim to the run's event stream (bad frames, garbage JSON). */
  | { kind: 'raw'; text: string }
  /** Terminal: `completed` with `run.completed` (output defaults to the deltas' text). */
  | { kind: 'complete'; output?: string; usage?: { inputTokens: number; outputTokens: number } }
  /** Terminal: `failed` with `run.failed`. */
  | { kind: 'fail'; error: string }
  /** Terminal: `interrupted` with `run.interrupted`, as on a gateway shutdown. */
  | { kind: 'interrupt'; error?: string }

/** What a script sees of the run it drives. */
export interface HermesRunRequest {
  runId: string
  /** The user message (a string input, or the last element's content of an array input). */
  input: string
  instructions?: string
  model?: string
  sessionId: string
  idempotencyKey?: string
}

export type HermesScript = (request: HermesRunRequest) => HermesScriptStep[]

/** The default script: one delta and a completed run echoing the input. */
export const echoScript: HermesScript = ({ input }) => [
  { kind: 'delta', text: 'Done.' },
  { kind: 'complete', output: `Done: ${input}` },
]
