import type { AgentEvent, AgentUsage } from '../agent-port.js'
import { EventEnvelope, EventFields, type HermesUsage, type KnownEvent } from './hermes-wire.js'

/** What one Hermes event asks of the backend beyond recording the mapped events. */
export type MappedEvent =
  | { kind: 'events'; events: AgentEvent[] }
  | { kind: 'approval'; events: AgentEvent[]; requestId: string; description: string; command?: string }
  | {
      kind: 'terminal'
      events: AgentEvent[]
      status: 'completed' | 'failed' | 'cancelled' | 'interrupted'
      output?: string
      usage?: HermesUsage
      error?: string
    }

/** Hermes usage → the port's counts (total computed when the build does not send it). */
export function toUsage(usage: HermesUsage | null | undefined): AgentUsage {
  const inputTokens = usage?.input_tokens ?? 0
  const outputTokens = usage?.output_tokens ?? 0
  return { inputTokens, outputTokens, totalTokens: usage?.total_tokens ?? inputTokens + outputTokens }
}

const PREVIEW_CHARS = 500

/**
 * Maps the events of one run's stream (CONTRACT §6.3) to the port's `AgentEvent`s and keeps what
 * the stream tells across events: tool calls (the stream has no call id, so a completion closes
 * the oldest open call of that tool), tool count (turns), the answer text so far, and the tokens
 * subagents reported.
 */
export class HermesEventMapper {
  turns = 0
  text = ''
  readonly subagentUsage: AgentUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 }
  private callNo = 0
  private approvalNo = 0
  private readonly open = new Map<string, string[]>()

  constructor(
    private readonly runId: string,
    private readonly now: () => number,
  ) {}

  /** One decoded JSON payload → what to record and do. Malformed payloads become a `note`. */
  map(payload: unknown): MappedEvent {
    const at = this.now()
    const envelope = EventEnvelope.safeParse(payload)
    if (!envelope.success) {
      return {
        kind: 'events',
        events: [{ kind: 'note', at, text: 'Hermes sent an event without an event name; skipped' }],
      }
    }
    const name = envelope.data.event
    if (!(name in EventFields)) {
      return { kind: 'events', events: [{ kind: 'note', at, text: `Hermes event ${name}` }] }
    }
    const schema = EventFields[name as KnownEvent]
    const parsed = schema.safeParse(payload)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue?.path.join('.') || '(root)'
      return {
        kind: 'events',
        events: [
          {
            kind: 'note',
            at,
            text: `Hermes sent a malformed ${name} event (${where}: ${issue?.message}); skipped`,
          },
        ],
      }
    }
    return this.mapKnown(name as KnownEvent, parsed.data as Record<string, unknown>, at)
  }

  private mapKnown(name: KnownEvent, e: Record<string, unknown>, at: number): MappedEvent {
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
    switch (name) {
      case 'message.delta':
        this.text += e.delta as string
        return { kind: 'events', events: [{ kind: 'message', at, text: e.delta as string }] }
      case 'message.interim':
        // Commentary already streamed as deltas would show twice.
        return {
          kind: 'events',
          events: [
            e.already_streamed
              ? { kind: 'note', at, text: `interim: ${e.text as string}` }
              : { kind: 'message', at, text: e.text as string },
          ],
        }
      case 'reasoning.available':
        return { kind: 'events', events: [{ kind: 'note', at, text: `reasoning: ${str(e.text) ?? ''}` }] }
      case 'tool.started': {
        const tool = e.tool as string
        const callId = `${this.runId}:tool:${++this.callNo}`
        this.turns += 1
        this.open.set(tool, [...(this.open.get(tool) ?? []), callId])
        const args = str(e.preview)
        return {
          kind: 'events',
          events: [
            {
              kind: 'tool.started',
              at,
              callId,
              tool,
              ...(args ? { args: args.slice(0, PREVIEW_CHARS) } : {}),
            },
          ],
        }
      }
      case 'tool.completed': {
        const tool = e.tool as string
        const queue = this.open.get(tool) ?? []
        const callId = queue.shift() ?? `${this.runId}:tool:${++this.callNo}`
        const summary = str(e.preview)
        const duration = typeof e.duration === 'number' ? Math.round(e.duration * 1000) : undefined
        return {
          kind: 'events',
          events: [
            {
              kind: 'tool.finished',
              at,
              callId,
              tool,
              status: e.error ? 'failure' : 'success',
              ...(summary ? { summary: summary.slice(0, PREVIEW_CHARS) } : {}),
              ...(duration === undefined ? {} : { durationMs: duration }),
            },
          ],
        }
      }
      case 'approval.request': {
        const requestId =
          str(e.request_id) ?? str(e.approval_id) ?? `${this.runId}:approval:${++this.approvalNo}`
        const command = str(e.command)
        const description = str(e.description) ?? command ?? 'the agent asks for approval'
        return {
          kind: 'approval',
          requestId,
          description,
          ...(command ? { command } : {}),
          events: [
            { kind: 'approval.requested', at, requestId, description, ...(command ? { command } : {}) },
          ],
        }
      }
      case 'approval.responded':
        return {
          kind: 'events',
          events: [
            {
              kind: 'approval.answered',
              at,
              requestId: str(e.request_id) ?? '',
              decision: e.choice === 'deny' ? 'deny' : 'approve',
            },
          ],
        }
      case 'subagent.complete': {
        const input = typeof e.input_tokens === 'number' ? e.input_tokens : 0
        const output = typeof e.output_tokens === 'number' ? e.output_tokens : 0
        this.subagentUsage.inputTokens += input
        this.subagentUsage.outputTokens += output
        this.subagentUsage.totalTokens += input + output
        return {
          kind: 'events',
          events: [{ kind: 'usage', at, usage: { ...this.subagentUsage } }],
        }
      }
      case 'run.completed':
        return {
          kind: 'terminal',
          status: 'completed',
          events: [],
          ...(str(e.output) !== undefined ? { output: str(e.output) } : {}),
          ...(e.usage ? { usage: e.usage as HermesUsage } : {}),
        }
      case 'run.failed':
      case 'run.interrupted':
        return {
          kind: 'terminal',
          status: name === 'run.failed' ? 'failed' : 'interrupted',
          events: [],
          ...(str(e.error) ? { error: str(e.error) } : {}),
        }
      case 'run.cancelled':
        return { kind: 'terminal', status: 'cancelled', events: [] }
    }
  }
}
