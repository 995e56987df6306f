import type {
  AgentApprovalDecision,
  AgentEvent,
  AgentRunContext,
  AgentTask,
} from '../../../src/agents/agent-port.js'
import { HermesBackend, type HermesBackendOptions } from '../../../src/agents/hermes/index.js'
import {
  startHermesDouble,
  type RunningHermesDouble,
  type StartHermesDoubleOptions,
} from '../../../src/agents/hermes/double/index.js'

/** A planted key: it must never show up in an event, an outcome or an error. */
export const PLANTED_KEY = 'hk-planted-SECRET-4f9a1c77d2e84b0b'

export function task(overrides: Partial<AgentTask> = {}): AgentTask {
  return {
    key: 'job-42:run-1',
    instructions: 'You are Ezra, the archivist. Read, never write.',
    input: 'What does the README say about houses?',
    model: 'hermes-3-70b',
    limits: { maxTurns: 20, wallMs: 10_000, maxTokens: 0 },
    ...overrides,
  }
}

/** Resolves after ms or on abort; the backend's sleeps are capped so retries and polls are quick. */
function quickSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, Math.min(ms, 25))
    signal?.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}

export function backendFor(
  running: RunningHermesDouble,
  overrides: Partial<HermesBackendOptions> = {},
): HermesBackend {
  return new HermesBackend({
    endpoint: running.url,
    apiKey: running.double.apiKey ?? '',
    apiKeyEnv: 'EZRA_HERMES_KEY',
    requestTimeoutMs: 2_000,
    streamIdleTimeoutMs: 2_000,
    silenceCheckMs: 300,
    pollIntervalMs: 20,
    pollMaxIntervalMs: 50,
    stopSettleMs: 2_000,
    sleep: quickSleep,
    ...overrides,
  })
}

export interface Recorder {
  ctx: AgentRunContext
  events: AgentEvent[]
  approvals: { requestId: string; description: string; command?: string }[]
  abort(): void
}

/** A worker stand-in: records every event, answers approvals with `decide`. */
export function recorder(
  decide: (request: { requestId: string; command?: string }) => AgentApprovalDecision = () => 'approve',
  onEvent: (event: AgentEvent, rec: Recorder) => void | Promise<void> = () => {},
): Recorder {
  const controller = new AbortController()
  const rec: Recorder = {
    events: [],
    approvals: [],
    abort: () => controller.abort(),
    ctx: {
      signal: controller.signal,
      onEvent: async (event) => {
        rec.events.push(event)
        await onEvent(event, rec)
      },
      askApproval: async (request) => {
        rec.approvals.push(request)
        return decide(request)
      },
      tools: [],
      executeTool: () => Promise.reject(new Error('a Hermes run never executes tools here')),
    },
  }
  return rec
}

export async function withDouble<T>(
  options: StartHermesDoubleOptions,
  body: (running: RunningHermesDouble) => Promise<T>,
): Promise<T> {
  const running = await startHermesDouble({
    apiKey: PLANTED_KEY,
    keepaliveMs: 100,
    streamWaitMs: 50,
    ...options,
  })
  try {
    return await body(running)
  } finally {
    await running.close()
  }
}

/** The messages the worker saw, deltas only (not the final answer). */
export const deltas = (events: AgentEvent[]) =>
  events.flatMap((e) => (e.kind === 'message' && !e.final ? [e.text] : []))

export const kinds = (events: AgentEvent[]) => events.map((e) => e.kind)
