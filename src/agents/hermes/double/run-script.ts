import type { DoubleRun } from './double-run.js'
import type { HermesFaults } from './faults.js'
import type { HermesScriptStep } from './script.js'

const RESTART_ERROR = 'The gateway restarted before this run settled.'
export const SHUTDOWN_ERROR = 'Gateway shutdown interrupted the run.'
export { RESTART_ERROR }

/** Waits `ms`, or less when the signal aborts (a stop or an interruption). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}

const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4))

/** Settles a run: status fields, the terminal event, the end of its stream. */
export function settle(
  run: DoubleRun,
  outcome:
    | { status: 'completed'; output: string; usage: Record<string, number> }
    | { status: 'failed' | 'interrupted'; error: string }
    | { status: 'cancelled' },
): void {
  if (run.terminal) return
  run.pendingApproval = undefined
  if (outcome.status === 'completed') {
    run.setStatus('completed', { output: outcome.output, usage: outcome.usage }, 'run.completed')
    run.emit('run.completed', { output: outcome.output, usage: outcome.usage })
  } else if (outcome.status === 'cancelled') {
    run.setStatus('cancelled', {}, 'run.cancelled')
    run.emit('run.cancelled')
  } else {
    const event = outcome.status === 'failed' ? 'run.failed' : 'run.interrupted'
    run.setStatus(outcome.status, { error: outcome.error }, event)
    run.emit(event, { error: outcome.error })
  }
  run.close()
}

/**
 * Plays a run's script: `queued` → `running` on the next tick, then each step in order. A stop
 * ends it `cancelled` at the next step (unless `faults.stopIgnored`); an interruption from
 * outside (restart, shutdown) has already settled it and the script just ends.
 */
export async function runScript(
  run: DoubleRun,
  steps: HermesScriptStep[],
  input: string,
  faults: HermesFaults,
): Promise<void> {
  await pause(0, run.abort.signal)
  if (run.terminal) return
  if (!run.stopRequested) run.setStatus('running')
  const queue = [...steps]
  let text = ''
  let requestNo = 0
  for (;;) {
    if (run.terminal) return
    if (run.stopRequested && !faults.stopIgnored) return settle(run, { status: 'cancelled' })
    const step = queue.shift()
    if (!step) break
    switch (step.kind) {
      case 'delta':
        text += step.text
        run.emit('message.delta', { delta: step.text })
        break
      case 'interim':
        run.emit('message.interim', { text: step.text, already_streamed: step.alreadyStreamed ?? false })
        break
      case 'reasoning':
        run.emit('reasoning.available', { text: step.text })
        break
      case 'tool': {
        run.emit('tool.started', { tool: step.tool, preview: step.preview ?? null })
        const started = Date.now()
        await pause(step.durationMs ?? 0, run.abort.signal)
        if (run.terminal) return
        const duration = Math.round(Date.now() - started) / 1000
        run.emit('tool.completed', {
          tool: step.tool,
          duration,
          error: step.error ?? false,
          ...(step.result === undefined ? {} : { preview: step.result.slice(0, 500) }),
        })
        break
      }
      case 'subagent':
        run.emit('subagent.complete', {
          ...(step.goal ? { goal: step.goal } : {}),
          status: 'completed',
          input_tokens: step.inputTokens,
          output_tokens: step.outputTokens,
        })
        break
      case 'approval': {
        requestNo += 1
        const requestId = `${run.runId.slice(4, 20)}${requestNo.toString(16).padStart(16, '0')}`
        const allowSession = step.allowSession ?? true
        const allowPermanent = step.allowPermanent ?? true
        const choices = !allowSession
          ? ['once', 'deny']
          : !allowPermanent
            ? ['once', 'session', 'deny']
            : ['once', 'session', 'always', 'deny']
        const payload = run.emit('approval.request', {
          command: step.command,
          description: step.description ?? 'dangerous command',
          pattern_key: 'scripted',
          pattern_keys: ['scripted'],
          allow_session: allowSession,
          allow_permanent: allowPermanent,
          approval_id: requestId,
          request_id: requestId,
          // A monotonic clock value, not epoch time (§9 #21).
          expires_at: performance.now() / 1000 + 300,
          choices,
        })
        run.setStatus('waiting_for_approval', { approval: payload }, 'approval.request')
        const choice = await new Promise<string | undefined>((resolve) => {
          run.pendingApproval = { requestId, resolve }
          run.abort.signal.addEventListener('abort', () => resolve(undefined), { once: true })
        })
        run.pendingApproval = undefined
        if (choice === undefined || run.terminal) break
        const branch = choice === 'deny' ? step.ifDenied : step.ifApproved
        if (branch) queue.unshift(...branch)
        break
      }
      case 'sleep':
        await pause(step.ms, run.abort.signal)
        break
      case 'dropStream':
        run.dropConnections()
        break
      case 'raw':
        run.raw(step.text)
        break
      case 'complete': {
        const output = step.output ?? text
        const inputTokens = step.usage?.inputTokens ?? estimateTokens(input)
        const outputTokens = step.usage?.outputTokens ?? estimateTokens(output)
        return settle(run, {
          status: 'completed',
          output,
          usage: {
            input_tokens: inputTokens,
            output_tokens: outputTokens,
            total_tokens: inputTokens + outputTokens,
          },
        })
      }
      case 'fail':
        return settle(run, { status: 'failed', error: step.error })
      case 'interrupt':
        return settle(run, { status: 'interrupted', error: step.error ?? SHUTDOWN_ERROR })
    }
  }
  const inputTokens = estimateTokens(input)
  const outputTokens = estimateTokens(text)
  settle(run, {
    status: 'completed',
    output: text,
    usage: {
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
    },
  })
}
