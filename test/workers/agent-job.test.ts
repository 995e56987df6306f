import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { AgentBackend, AgentOutcome, AgentRunContext, AgentTask } from '../../src/agents/agent-port.js'
import { Harness } from '../../src/harness/harness.js'
import { JobRecord } from '../../src/jobs/job-store.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import type { AgentProgress } from '../../src/report/agent-steps.js'
import { verifyResultComment } from '../../src/report/check-result-comment.js'
import { ackBody } from '../../src/report/reporter.js'
import { runAgentJob, type AgentJobDeps } from '../../src/workers/agent-job.js'
import { builtinTools } from '../../src/tools/builtin-tools.js'

const SECRET = 'sekrit-token-value-1234567890'
const dirs: string[] = []
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'uw-agent-job-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** An in-process backend whose run is a script over the context (the HTTP doubles are tested elsewhere). */
class Scripted implements AgentBackend {
  tasks: AgentTask[] = []
  constructor(
    private readonly script: (task: AgentTask, ctx: AgentRunContext) => Promise<AgentOutcome>,
    readonly kind: 'openai' | 'hermes' = 'openai',
  ) {}
  run(task: AgentTask, ctx: AgentRunContext): Promise<AgentOutcome> {
    this.tasks.push(task)
    return this.script(task, ctx)
  }
  async health() {
    return { ok: true }
  }
}

const usage = { inputTokens: 100, outputTokens: 20, totalTokens: 120 }

function record(tool: string, text: string): JobRecord {
  return JobRecord.parse({
    id: 'j0123456789ab',
    runId: 'j0123456789ab',
    run: 1,
    state: 'running',
    house: 'ezra',
    tool,
    args: { text },
    mode: 'INTELLIGENT',
    dryRun: false,
    requester: { login: 'wendy', id: 5 },
    origin: {
      deliveryId: 'd-1',
      repo: { owner: 'o', name: 'r' },
      issue: 1,
      commentId: 77,
      commentUrl: 'http://gitea/o/r/issues/1#issuecomment-77',
      command: `/ask ${text}`,
    },
    approvalRequired: false,
    approvers: [],
    approvalTtlSeconds: 3600,
    houseReason: 'named in the command',
    digest: 'sha256:0',
    ackCommentKey: 'c:d-1:77:ack_0',
    ackCommentId: 9,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: '2026-01-01T00:00:01Z',
    retryKeys: [],
  })
}

function world(
  backend: AgentBackend,
  opts: { progressMs?: number; spend?: (total: number) => Promise<string | undefined> } = {},
) {
  const dir = tmp()
  const checkout = join(dir, 'checkout')
  execFileSync('git', ['init', '-q', '-b', 'main', checkout])
  writeFileSync(join(checkout, 'README.md'), 'hello from the readme\n')
  execFileSync('git', ['-C', checkout, 'add', '.'])
  execFileSync('git', ['-C', checkout, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init'])
  const commit = execFileSync('git', ['-C', checkout, 'rev-parse', 'HEAD']).toString().trim()
  const keyDir = join(dir, 'keys')
  const harness = new Harness({
    house: 'ezra',
    keyDir,
    auditPath: join(dir, 'audit.jsonl'),
    sign: true,
    secrets: [SECRET],
    log: pino({ level: 'silent' }),
  })
  const lines: string[] = []
  const shown: AgentProgress[] = []
  const deps: AgentJobDeps = {
    house: 'ezra',
    harness,
    tools: builtinTools,
    agent: { backend, model: 'scripted', limits: { maxTurns: 10, wallMs: 60_000, maxTokens: 10_000 } },
    prompt: async () => ({
      instructions: 'You are ezra.',
      input: 'Where is the greeting?',
      title: 'Issue 1',
    }),
    appendEvent: async (line) => lines.push(line),
    showProgress: async (p) => {
      shown.push(p)
    },
    progressMs: opts.progressMs ?? 20,
    ...(opts.spend ? { spend: opts.spend } : {}),
    log: pino({ level: 'silent' }),
  }
  const run = (rec: JobRecord) =>
    runAgentJob(deps, {
      rec,
      signal: new AbortController().signal,
      checkout: { path: checkout, commit, repo: { owner: 'o', name: 'r' }, baseBranch: 'main' },
      options: {
        requestedBy: 'wendy',
        job: { id: rec.id, runId: rec.runId },
        workspaceRoots: [checkout],
        task: { tool: rec.tool, args: rec.args },
      },
    })
  return { run, lines, shown, keyDir, checkout }
}

describe('runAgentJob: /ask', () => {
  it('answers through read tools only, cites what it read, stores every event, and signs a comment verify accepts', async () => {
    const replies: string[] = []
    const backend = new Scripted(async (_task, ctx) => {
      const at = Date.now()
      await ctx.onEvent({ kind: 'run.started', at, runId: 'loop_1' })
      await ctx.onEvent({
        kind: 'tool.started',
        at,
        callId: 'c1',
        tool: 'file_read',
        args: '{"path":"README.md"}',
      })
      const read = await ctx.executeTool('file_read', { path: 'README.md' }, ctx.signal)
      replies.push(read.content)
      await ctx.onEvent({ kind: 'tool.finished', at, callId: 'c1', tool: 'file_read', status: read.status })
      // A write in a read-only task is answered, never run.
      const write = await ctx.executeTool('file_write', { path: 'README.md', content: 'x' }, ctx.signal)
      replies.push(write.content)
      await new Promise((r) => setTimeout(r, 60))
      await ctx.onEvent({ kind: 'usage', at, usage })
      await ctx.onEvent({
        kind: 'message',
        at,
        text: `The README greets you (token ${SECRET}).`,
        final: true,
      })
      return {
        status: 'completed',
        answer: `The README greets you (token ${SECRET}).`,
        runId: 'loop_1',
        usage,
        turns: 2,
      }
    })
    const w = world(backend)
    const rec = record('agent.ask', 'where is the greeting?')
    const stored = await w.run(rec)

    expect(stored.status).toBe('success')
    expect(replies[0]).toContain('hello from the readme')
    expect(replies[1]).toMatch(/only reads/)
    expect(backend.tasks[0]?.key).toBe('uw-j0123456789ab')
    // Only read tools were offered.
    expect(stored.output).not.toContain(SECRET)
    expect(stored.output).toContain('The README greets you')
    const agent = stored.statement?.predicate.agent
    expect(agent?.filesRead).toEqual([
      { path: 'README.md', sha256: createHash('sha256').update('hello from the readme\n').digest('hex') },
    ])
    // The event log is what was stored, hashed line by line, and holds no secret.
    expect(agent?.eventLog.events).toBe(w.lines.length)
    expect(agent?.eventLog.sha256).toBe(
      createHash('sha256')
        .update(w.lines.map((l) => `${l}\n`).join(''))
        .digest('hex'),
    )
    expect(w.lines.join('\n')).not.toContain(SECRET)
    expect(agent).toMatchObject({
      task: 'ask',
      backend: 'openai',
      model: 'scripted',
      runId: 'loop_1',
      usage,
      turns: 2,
    })
    // The checklist was shown while it ran (throttled, so not once per event).
    expect(w.shown.length).toBeGreaterThan(0)
    expect(w.shown.length).toBeLessThan(w.lines.length)
    expect(w.shown.at(-1)?.steps[0]).toMatchObject({ tool: 'file_read', status: 'success' })

    // The final comment shows the answer unfolded, the steps, and verifies against the house key.
    const body = ackBody({ ...rec, state: 'success' }, stored, { outputCap: 50_000 })
    expect(body).toContain('<details open>')
    expect(body).toContain('**Agent steps**')
    expect(body).toContain('- files read: `README.md`')
    expect(body).not.toContain(SECRET)
    const key = new KeyStore(w.keyDir).publicKey('ezra')
    const verified = verifyResultComment(body, key ? [key] : [])
    expect(verified).toMatchObject({ ok: true })
  })

  it('a run that ends over a limit fails the job with the reason, and a cancelled run ends cancelled', async () => {
    const limited = world(
      new Scripted(async () => ({ status: 'limit', error: 'maxTurns (10) reached', usage, turns: 10 })),
    )
    const stored = await limited.run(record('agent.ask', 'q'))
    expect(stored.status).toBe('timeout')
    expect(stored.error?.reason).toContain('maxTurns (10) reached')

    const cancelled = world(
      new Scripted(async () => ({ status: 'cancelled', error: 'stopped', usage, turns: 1 })),
    )
    expect((await cancelled.run(record('agent.ask', 'q'))).status).toBe('cancelled')
  })

  it('an interrupted run is run once more under a new key, then its outcome stands', async () => {
    let calls = 0
    const backend = new Scripted(async () => {
      calls += 1
      return calls === 1
        ? { status: 'interrupted', error: 'The gateway restarted before this run settled.', usage, turns: 0 }
        : { status: 'completed', answer: 'done', usage, turns: 1 }
    })
    const w = world(backend)
    const stored = await w.run(record('agent.ask', 'q'))
    expect(backend.tasks.map((t) => t.key)).toEqual(['uw-j0123456789ab', 'uw-j0123456789ab.2'])
    expect(stored.status).toBe('success')
    expect(stored.notes.join(' ')).toContain('interrupted')
  })
})

describe('runAgentJob: the daily token budget', () => {
  it('a run that finds the budget spent is stopped and fails saying so', async () => {
    let aborted = false
    const backend = new Scripted(async (_task, ctx) => {
      ctx.signal.addEventListener('abort', () => (aborted = true))
      await ctx.onEvent({ kind: 'usage', at: Date.now(), usage })
      // A loop stops at its next turn when its signal is aborted.
      return ctx.signal.aborted
        ? { status: 'cancelled', error: 'stopped', usage, turns: 1 }
        : { status: 'completed', answer: 'done', usage, turns: 1 }
    })
    const w = world(backend, { spend: async (total) => (total >= 100 ? 'the budget is spent' : undefined) })
    const stored = await w.run(record('agent.ask', 'q'))
    expect(aborted).toBe(true)
    expect(stored.status).toBe('failure')
    expect(stored.error).toMatchObject({ rule: 'agent-budget', reason: 'the budget is spent' })
  })
})

describe('runAgentJob: a Hermes agent past maxTurns', () => {
  it('is stopped at the tool call past the limit and the job times out saying so', async () => {
    const backend = new Scripted(async (_task, ctx) => {
      for (let i = 0; i < 15 && !ctx.signal.aborted; i++)
        await ctx.onEvent({ kind: 'tool.started', at: Date.now(), callId: `c${i}`, tool: 'terminal' })
      return ctx.signal.aborted
        ? { status: 'cancelled', error: 'stopped', usage, turns: 11 }
        : { status: 'completed', answer: 'done', usage, turns: 15 }
    }, 'hermes')
    const w = world(backend)
    const stored = await w.run(record('agent.ask', 'q'))
    expect(stored.status).toBe('timeout')
    expect(stored.error).toMatchObject({ rule: 'agent-limit' })
    expect(stored.error?.reason).toContain('maxTurns (10 tool calls)')
  })
})

describe('runAgentJob: /implement', () => {
  it('an agent that changed nothing fails the job saying so, and nothing is pushed', async () => {
    const w = world(new Scripted(async () => ({ status: 'completed', answer: 'all good', usage, turns: 1 })))
    const stored = await w.run({ ...record('agent.implement', ''), house: 'ezra' })
    expect(stored.status).toBe('failure')
    expect(stored.error?.reason).toContain('without changing any file')
  })
})
