import { createHash } from 'node:crypto'
import type { AgentEvent } from '../agents/agent-port.js'
import type { Logger } from '../logger.js'
import type { AgentProgress, AgentStep } from '../report/agent-steps.js'

/** How many steps a comment lists (the newest). */
export const STEPS_SHOWN = 60

/**
 * An agent run's log as the worker keeps it: every event stored as it arrives (one redacted JSON
 * line each, hashed in order: the signed event log digest), and what the job's comment shows of
 * it: the checklist of tool calls, tokens, the last message, what it waits for, and the
 * transcript. The checklist is shown at most once per `progressMs` (a change inside the window is
 * shown when it closes) and on `flush()`.
 *
 * @example
 *   const log = new AgentRunLog({ redact, appendEvent, showProgress, progressMs: 3000, log: jlog })
 *   await log.record({ kind: 'message', at: Date.now(), text: 'hi', final: true })
 *   log.digest() // sha256 of the stored lines
 */
export class AgentRunLog {
  private readonly hash = createHash('sha256')
  events = 0
  /** Raw lines: redacted whole when read (`transcriptText`), so a secret streamed in pieces is still caught. */
  private readonly transcript: string[] = []
  readonly steps: AgentStep[] = []
  private readonly stepIndex = new Map<string, number>()
  private lastMessage: string | undefined
  totalTokens = 0
  private waitingFor: string | undefined
  private seq = 0
  private shownAt = 0
  private pending: NodeJS.Timeout | undefined

  constructor(
    private readonly deps: {
      redact: (text: string) => string
      appendEvent: (line: string) => Promise<unknown>
      showProgress: (progress: AgentProgress, seq: number) => Promise<void>
      progressMs: number
      log: Logger
      now?: () => number
      /** Telemetry of each event as it is stored, with its position in the run's log (never throws). */
      emit?: (e: AgentEvent, seq: number) => Promise<void>
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)()
  }

  /** Stores one event, then updates what the comment shows. */
  async record(e: AgentEvent): Promise<void> {
    const line = this.deps.redact(JSON.stringify(e))
    this.hash.update(`${line}\n`)
    const seq = this.events
    this.events += 1
    await this.deps.appendEvent(line)
    await this.deps.emit?.(e, seq)
    this.apply(e)
    this.changed()
  }

  /**
   * A worker that took a run over (its first worker died): the stored lines are the run's log,
   * so the digest covers what the first worker stored too and the checklist keeps its steps.
   */
  resume(lines: readonly string[]): void {
    for (const line of lines) {
      this.hash.update(`${line}\n`)
      this.events += 1
      try {
        this.apply(JSON.parse(line) as AgentEvent)
      } catch {
        // A line this worker cannot read still counts in the digest; it just shows nothing.
      }
    }
    if (lines.length > 0)
      this.transcript.push(
        `(the worker running this job stopped; another took it over after ${lines.length} events)`,
      )
  }

  /** The transcript, redacted as a whole. */
  transcriptText(): string {
    return this.deps.redact(this.transcript.join('\n'))
  }

  /** The sha256 of every stored line, in order (each followed by a newline). */
  digest(): string {
    return this.hash.copy().digest('hex')
  }

  /** Shows the checklist as it is now (cancelling a pending edit). */
  async flush(): Promise<void> {
    if (this.pending) clearTimeout(this.pending)
    await this.show()
  }

  /** Stops a pending edit without showing it. */
  stop(): void {
    if (this.pending) clearTimeout(this.pending)
    this.pending = undefined
  }

  progress(): AgentProgress {
    return {
      steps: this.steps.slice(-STEPS_SHOWN),
      earlier: Math.max(0, this.steps.length - STEPS_SHOWN),
      ...(this.lastMessage !== undefined ? { message: this.deps.redact(this.lastMessage).slice(-500) } : {}),
      totalTokens: this.totalTokens,
      updatedAt: new Date(this.now()).toISOString(),
      ...(this.waitingFor !== undefined ? { waitingFor: this.waitingFor } : {}),
    }
  }

  private async show(): Promise<void> {
    this.pending = undefined
    this.shownAt = this.now()
    this.seq += 1
    await this.deps
      .showProgress(this.progress(), this.seq)
      .catch((err: unknown) => this.deps.log.warn({ err }, 'checklist not shown'))
  }

  // At most one checklist edit per window; a change inside the window is shown when it closes.
  private changed(): void {
    if (this.pending) return
    const wait = Math.max(0, this.shownAt + this.deps.progressMs - this.now())
    this.pending = setTimeout(() => void this.show(), wait)
    this.pending.unref?.()
  }

  /** What an event changes in the checklist and the transcript. */
  private apply(e: AgentEvent): void {
    const redact = this.deps.redact
    const t = this.transcript
    switch (e.kind) {
      case 'message':
        this.lastMessage = redact(e.text)
        if (e.final || t.length === 0 || !t[t.length - 1]?.startsWith('agent: '))
          t.push(`agent: ${this.lastMessage}`)
        else t[t.length - 1] += redact(e.text)
        break
      case 'tool.started':
        this.stepIndex.set(e.callId, this.steps.length)
        this.steps.push({
          tool: e.tool,
          status: 'running',
          ...(e.args !== undefined ? { args: redact(e.args).slice(0, 300) } : {}),
        })
        t.push(`tool ${e.tool} ${redact(e.args ?? '')}`.trim())
        break
      case 'tool.finished': {
        const i = this.stepIndex.get(e.callId)
        const step = i === undefined ? undefined : this.steps[i]
        if (step) {
          step.status = e.status.slice(0, 40)
          if (e.durationMs !== undefined) step.durationMs = e.durationMs
        } else this.steps.push({ tool: e.tool, status: e.status.slice(0, 40) })
        t.push(`  -> ${e.status}${e.summary ? `: ${redact(e.summary).slice(0, 300)}` : ''}`)
        break
      }
      case 'usage':
        this.totalTokens = e.usage.totalTokens
        break
      case 'approval.requested':
        this.waitingFor = redact(e.description).slice(0, 500)
        t.push(`approval asked: ${this.waitingFor}`)
        break
      case 'approval.answered':
        this.waitingFor = undefined
        t.push(`approval ${e.decision}`)
        break
      case 'stream.lost':
        t.push(`(event stream lost: ${e.reason}; events until the end of the run are not shown)`)
        break
      default:
        break
    }
  }
}
