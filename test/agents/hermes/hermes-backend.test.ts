import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../../../src/logger.js'
import {
  RESTART_ERROR,
  SHUTDOWN_ERROR,
  type HermesScriptStep,
} from '../../../src/agents/hermes/double/index.js'
import { backendFor, deltas, kinds, PLANTED_KEY, recorder, task, withDouble } from './hermes-helpers.js'

describe('HermesBackend against the Hermes double over HTTP', () => {
  it('relays a completed run event by event, in order, and takes output and usage from the run status', async () => {
    const script = (): HermesScriptStep[] => [
      { kind: 'delta', text: 'Reading the README' },
      { kind: 'tool', tool: 'read_file', preview: 'README.md', durationMs: 20, result: '# uni-wizard' },
      { kind: 'reasoning', text: 'houses are agents' },
      { kind: 'delta', text: '… done' },
      {
        kind: 'complete',
        output: 'Houses are AI agents with roles.',
        usage: { inputTokens: 120, outputTokens: 30 },
      },
    ]
    await withDouble({ script }, async (running) => {
      const rec = recorder()
      const outcome = await backendFor(running).run(task(), rec.ctx)

      expect(outcome).toMatchObject({
        status: 'completed',
        answer: 'Houses are AI agents with roles.',
        usage: { inputTokens: 120, outputTokens: 30, totalTokens: 150 },
        model: 'hermes-3-70b',
        turns: 1,
      })
      expect(outcome.runId).toBe(running.double.startedRuns()[0])
      expect(kinds(rec.events)).toEqual([
        'run.started',
        'message',
        'tool.started',
        'tool.finished',
        'note',
        'message',
        'usage',
        'message',
      ])
      expect(deltas(rec.events)).toEqual(['Reading the README', '… done'])
      const started = rec.events.find((e) => e.kind === 'tool.started')
      const finished = rec.events.find((e) => e.kind === 'tool.finished')
      expect(started).toMatchObject({ tool: 'read_file', args: 'README.md' })
      expect(finished).toMatchObject({ tool: 'read_file', status: 'success', summary: '# uni-wizard' })
      expect(finished && 'callId' in finished && finished.callId).toBe(
        started && 'callId' in started && started.callId,
      )
      expect(rec.events.at(-1)).toMatchObject({
        kind: 'message',
        final: true,
        text: 'Houses are AI agents with roles.',
      })

      // The start carried the job's key and the task; the stream was read once, no polling needed.
      const post = running.double.requests.find((r) => r.method === 'POST' && r.path === '/v1/runs')
      expect(post).toMatchObject({ status: 202, idempotencyKey: 'job-42:run-1' })
      expect(JSON.parse(post?.body ?? '{}')).toEqual({
        input: 'What does the README say about houses?',
        instructions: 'You are Ezra, the archivist. Read, never write.',
        model: 'hermes-3-70b',
      })
      expect(rec.events.some((e) => e.kind === 'stream.lost')).toBe(false)
    })
  })

  it('decodes ASCII-escaped JSON (non-ASCII text arrives as \\uXXXX)', async () => {
    await withDouble({ script: () => [{ kind: 'delta', text: 'Zürich — 東京 ✓' }] }, async (running) => {
      const rec = recorder()
      const outcome = await backendFor(running).run(task(), rec.ctx)
      expect(deltas(rec.events)).toEqual(['Zürich — 東京 ✓'])
      expect(outcome.answer).toBe('Zürich — 東京 ✓')
    })
  })

  describe('idempotent restart: the same task key never starts a second run', () => {
    const slow = (): HermesScriptStep[] => [
      { kind: 'delta', text: 'working' },
      { kind: 'sleep', ms: 300 },
      { kind: 'complete', output: 'the one answer', usage: { inputTokens: 5, outputTokens: 3 } },
    ]

    it('a worker that dies mid-run is replaced: the replacement resumes the same run (stream gone, 404) and gets the answer', async () => {
      await withDouble({ script: slow }, async (running) => {
        // The first worker dies after the first delta: its connection ends and Hermes drops the transport.
        const first = recorder(undefined, (event) => {
          if (event.kind === 'message') throw new Error('worker SIGKILLed')
        })
        await expect(backendFor(running).run(task(), first.ctx)).rejects.toThrow('worker SIGKILLed')

        const second = recorder()
        const outcome = await backendFor(running).run(task(), second.ctx)

        expect(running.double.startedRuns()).toHaveLength(1)
        expect(running.double.idempotencyKeys()).toEqual(['job-42:run-1', 'job-42:run-1'])
        expect(second.events[0]).toMatchObject({
          kind: 'run.started',
          runId: running.double.startedRuns()[0],
          replayed: true,
        })
        // Legacy framing: the resubscribe is a 404, so the status is polled to the end.
        const eventGets = running.double.requests.filter((r) => r.path.endsWith('/events'))
        expect(eventGets.map((r) => r.status)).toEqual([200, 404])
        expect(second.events.some((e) => e.kind === 'stream.lost')).toBe(true)
        expect(outcome).toMatchObject({
          status: 'completed',
          answer: 'the one answer',
          runId: running.double.startedRuns()[0],
        })
      })
    })

    it('two backends with the same key at once share the one run and both get the answer', async () => {
      await withDouble({ script: slow }, async (running) => {
        const a = recorder()
        const b = recorder()
        const [first, second] = await Promise.all([
          backendFor(running).run(task(), a.ctx),
          backendFor(running).run(task(), b.ctx),
        ])
        expect(running.double.startedRuns()).toHaveLength(1)
        expect(first).toMatchObject({ status: 'completed', answer: 'the one answer' })
        expect(second).toMatchObject({ status: 'completed', answer: 'the one answer' })
        expect(first.runId).toBe(second.runId)
      })
    })

    it('a replay after the run ended answers from the status at once', async () => {
      await withDouble({ script: slow }, async (running) => {
        await backendFor(running).run(task(), recorder().ctx)
        const again = recorder()
        const outcome = await backendFor(running).run(task(), again.ctx)
        expect(running.double.startedRuns()).toHaveLength(1)
        expect(outcome).toMatchObject({ status: 'completed', answer: 'the one answer' })
      })
    })
  })

  it.each([
    ['429 rate_limit_exceeded (the concurrent-run cap)', 429 as const],
    ['503 gateway_draining', 503 as const],
  ])('%s on start waits and retries; it is not a failure', async (_name, status) => {
    await withDouble({}, async (running) => {
      running.double.faults.rejectStarts(status, 2)
      const rec = recorder()
      const outcome = await backendFor(running).run(task(), rec.ctx)
      expect(outcome.status).toBe('completed')
      const posts = running.double.requests.filter((r) => r.method === 'POST' && r.path === '/v1/runs')
      expect(posts.map((r) => r.status)).toEqual([status, status, 202])
      expect(running.double.startedRuns()).toHaveLength(1)
      expect(rec.events.filter((e) => e.kind === 'note' && e.text.includes('busy'))).toHaveLength(1)
    })
  })

  it('a run refused by the real cap (max_concurrent_runs) starts once a slot frees', async () => {
    const script = ({ input }: { input: string }): HermesScriptStep[] =>
      input === 'blocker'
        ? [
            { kind: 'sleep', ms: 200 },
            { kind: 'complete', output: 'blocked' },
          ]
        : [{ kind: 'complete', output: 'ok' }]
    await withDouble({ script, maxConcurrentRuns: 1 }, async (running) => {
      const blocker = backendFor(running).run(task({ key: 'blocker', input: 'blocker' }), recorder().ctx)
      await new Promise((r) => setTimeout(r, 50))
      const outcome = await backendFor(running).run(task({ key: 'waiter', input: 'waiter' }), recorder().ctx)
      expect(outcome).toMatchObject({ status: 'completed', answer: 'ok' })
      expect((await blocker).status).toBe('completed')
      const statuses = running.double.requests.filter(
        (r) => r.method === 'POST' && r.idempotencyKey === 'waiter',
      )
      expect(statuses[0]?.status).toBe(429)
      expect(statuses.at(-1)?.status).toBe(202)
    })
  })

  describe('approvals', () => {
    const script = (): HermesScriptStep[] => [
      { kind: 'delta', text: 'about to push' },
      {
        kind: 'approval',
        command: 'git push origin house/bezalel/42',
        description: 'push to the remote',
        ifApproved: [
          { kind: 'tool', tool: 'terminal', preview: 'git push' },
          { kind: 'complete', output: 'pushed' },
        ],
        ifDenied: [
          { kind: 'delta', text: 'not pushing' },
          { kind: 'complete', output: 'left unpushed' },
        ],
      },
    ]

    it.each([
      ['approved', 'approve' as const, 'once', 'pushed'],
      ['denied', 'deny' as const, 'deny', 'left unpushed'],
    ])(
      '%s: asked once, the answer posted to Hermes, the agent goes on',
      async (_name, decision, choice, answer) => {
        await withDouble({ script }, async (running) => {
          const rec = recorder(() => decision)
          const outcome = await backendFor(running).run(task(), rec.ctx)

          expect(rec.approvals).toHaveLength(1)
          expect(rec.approvals[0]).toMatchObject({
            command: 'git push origin house/bezalel/42',
            description: 'push to the remote',
          })
          const posted = running.double.requests.filter((r) => r.path.endsWith('/approval'))
          expect(posted).toHaveLength(1)
          expect(posted[0]?.status).toBe(200)
          expect(JSON.parse(posted[0]?.body ?? '{}')).toEqual({
            choice,
            request_id: rec.approvals[0]?.requestId,
          })
          const requested = rec.events.findIndex((e) => e.kind === 'approval.requested')
          const answered = rec.events.findIndex((e) => e.kind === 'approval.answered')
          expect(requested).toBeGreaterThan(0)
          expect(answered).toBeGreaterThan(requested)
          expect(rec.events[answered]).toMatchObject({ decision, requestId: rec.approvals[0]?.requestId })
          expect(outcome).toMatchObject({ status: 'completed', answer })
        })
      },
    )

    it('an approval asked while the stream was lost is found by polling and answered', async () => {
      const lostScript = (): HermesScriptStep[] => [{ kind: 'dropStream' }, ...script()]
      await withDouble({ script: lostScript }, async (running) => {
        const rec = recorder(() => 'approve')
        const outcome = await backendFor(running).run(task(), rec.ctx)
        expect(rec.approvals).toHaveLength(1)
        expect(outcome).toMatchObject({ status: 'completed', answer: 'pushed' })
      })
    })
  })

  describe('stream loss', () => {
    const script = (): HermesScriptStep[] => [
      { kind: 'delta', text: 'one' },
      { kind: 'delta', text: 'two' },
      { kind: 'sleep', ms: 100 }, // the client is subscribed by then
      { kind: 'dropStream' },
      { kind: 'delta', text: 'three' },
      { kind: 'tool', tool: 'terminal', preview: 'npm test', durationMs: 30 },
      { kind: 'delta', text: 'four' },
      { kind: 'complete', output: 'final answer', usage: { inputTokens: 9, outputTokens: 9 } },
    ]

    it('legacy framing: stream.lost, the dropped events stay lost, the final status comes from polling', async () => {
      await withDouble({ script, framing: 'legacy' }, async (running) => {
        const rec = recorder()
        const outcome = await backendFor(running).run(task(), rec.ctx)
        expect(deltas(rec.events)).toEqual(['one', 'two'])
        const lost = rec.events.filter((e) => e.kind === 'stream.lost')
        expect(lost).toHaveLength(1)
        expect(lost[0]).toMatchObject({ reason: expect.stringContaining("polling the run's status") })
        expect(outcome).toMatchObject({
          status: 'completed',
          answer: 'final answer',
          usage: { totalTokens: 18 },
        })
        // No id lines: no resubscribe (it would be a 404); the status was polled.
        expect(running.double.requests.filter((r) => r.path.endsWith('/events'))).toHaveLength(1)
        const id = running.double.startedRuns()[0]
        expect(
          running.double.requests.filter((r) => r.method === 'GET' && r.path === `/v1/runs/${id}`).length,
        ).toBeGreaterThan(0)
      })
    })

    it.each([1, 0] as const)(
      'replay framing (ids from %i): resumes with Last-Event-ID, no event duplicated or missing',
      async (replayIdStart) => {
        await withDouble({ script, framing: 'replay', replayIdStart }, async (running) => {
          const rec = recorder()
          const outcome = await backendFor(running).run(task(), rec.ctx)
          expect(deltas(rec.events)).toEqual(['one', 'two', 'three', 'four'])
          expect(rec.events.filter((e) => e.kind === 'tool.started')).toHaveLength(1)
          expect(rec.events.filter((e) => e.kind === 'tool.finished')).toHaveLength(1)
          expect(rec.events.filter((e) => e.kind === 'stream.lost')).toHaveLength(1)
          const gets = running.double.requests.filter((r) => r.path.endsWith('/events'))
          expect(gets.map((r) => r.lastEventId)).toEqual([undefined, String(replayIdStart + 1)])
          expect(outcome).toMatchObject({ status: 'completed', answer: 'final answer' })
        })
      },
    )

    it('legacy zombie stream (a second subscriber left with keepalives only) is given up once the run ended', async () => {
      await withDouble(
        {
          script: () => [
            { kind: 'sleep', ms: 150 },
            { kind: 'complete', output: 'done' },
          ],
        },
        async (running) => {
          const rec = recorder()
          const run = backendFor(running).run(task(), rec.ctx)
          await new Promise((r) => setTimeout(r, 60))
          // Another subscriber attaches and leaves: the shared FIFO's transport is dropped for both.
          const id = running.double.startedRuns()[0]
          const other = await fetch(`${running.url}/v1/runs/${id}/events`, {
            headers: { Authorization: `Bearer ${PLANTED_KEY}` },
          })
          await other.body?.cancel()
          const outcome = await run
          expect(outcome).toMatchObject({ status: 'completed', answer: 'done' })
          expect(rec.events.find((e) => e.kind === 'stream.lost')).toMatchObject({
            reason: expect.stringContaining('silent'),
          })
        },
      )
    })
  })

  describe('interrupted runs are reported, never retried here', () => {
    it('a gateway shutdown (run.interrupted)', async () => {
      await withDouble(
        { script: () => [{ kind: 'delta', text: 'half' }, { kind: 'interrupt' }] },
        async (running) => {
          const outcome = await backendFor(running).run(task(), recorder().ctx)
          expect(outcome.status).toBe('interrupted')
          expect(outcome.error).toContain(SHUTDOWN_ERROR)
          expect(running.double.startedRuns()).toHaveLength(1)
        },
      )
    })

    it('a gateway restart (status only, the stream is cut)', async () => {
      await withDouble(
        {
          script: () => [
            { kind: 'delta', text: 'half' },
            { kind: 'sleep', ms: 5_000 },
          ],
        },
        async (running) => {
          const rec = recorder(undefined, (event) => {
            if (event.kind === 'message') setTimeout(() => running.double.restart(), 10)
          })
          const outcome = await backendFor(running).run(task(), rec.ctx)
          expect(outcome.status).toBe('interrupted')
          expect(outcome.error).toContain(RESTART_ERROR)
          expect(
            running.double.requests.filter((r) => r.method === 'POST' && r.path === '/v1/runs'),
          ).toHaveLength(1)
        },
      )
    })
  })

  it('cancel mid-run posts stop, waits for the run to settle and ends cancelled', async () => {
    const script = (): HermesScriptStep[] => [
      { kind: 'delta', text: 'starting' },
      { kind: 'sleep', ms: 5_000 },
      { kind: 'complete', output: 'too late' },
    ]
    await withDouble({ script }, async (running) => {
      const rec = recorder(undefined, (event, r) => {
        if (event.kind === 'message') r.abort()
      })
      const begun = Date.now()
      const outcome = await backendFor(running).run(task(), rec.ctx)
      expect(Date.now() - begun).toBeLessThan(2_000)
      const id = running.double.startedRuns()[0] ?? ''
      expect(running.double.requests.filter((r) => r.path === `/v1/runs/${id}/stop`)).toHaveLength(1)
      expect(running.double.run(id)?.state).toBe('cancelled')
      expect(outcome).toMatchObject({ status: 'cancelled', runId: id })
      expect(outcome.error).toContain('ended cancelled')
    })
  })

  it('a cancel before the run was accepted starts nothing', async () => {
    await withDouble({}, async (running) => {
      running.double.faults.rejectStarts(429, 1000)
      const rec = recorder(undefined, (event, r) => {
        if (event.kind === 'note') r.abort()
      })
      const outcome = await backendFor(running).run(task(), rec.ctx)
      expect(outcome.status).toBe('cancelled')
      expect(outcome.error).toContain('no run was started')
      expect(running.double.startedRuns()).toHaveLength(0)
    })
  })

  it('the wall-time limit stops the run and ends with limit', async () => {
    await withDouble({ script: () => [{ kind: 'sleep', ms: 10_000 }] }, async (running) => {
      const begun = Date.now()
      const outcome = await backendFor(running).run(
        task({ limits: { maxTurns: 5, wallMs: 300, maxTokens: 0 } }),
        recorder().ctx,
      )
      expect(Date.now() - begun).toBeLessThan(3_000)
      expect(outcome.status).toBe('limit')
      expect(outcome.error).toContain('wall-time limit of 0.3 s')
      const id = running.double.startedRuns()[0] ?? ''
      expect(running.double.requests.filter((r) => r.path === `/v1/runs/${id}/stop`)).toHaveLength(1)
      expect(running.double.run(id)?.state).toBe('cancelled')
    })
  })

  it('the wall-time limit also bounds waiting for a free slot', async () => {
    await withDouble({}, async (running) => {
      running.double.faults.rejectStarts(429, 1000)
      const outcome = await backendFor(running).run(
        task({ limits: { maxTurns: 5, wallMs: 200, maxTokens: 0 } }),
        recorder().ctx,
      )
      expect(outcome.status).toBe('limit')
      expect(running.double.startedRuns()).toHaveLength(0)
    })
  })

  describe('max tokens', () => {
    it('usage reported mid-run beyond the cap stops the run', async () => {
      const script = (): HermesScriptStep[] => [
        { kind: 'subagent', goal: 'explore', inputTokens: 900, outputTokens: 200 },
        { kind: 'sleep', ms: 5_000 },
      ]
      await withDouble({ script }, async (running) => {
        const outcome = await backendFor(running).run(
          task({ limits: { maxTurns: 5, wallMs: 10_000, maxTokens: 1_000 } }),
          recorder().ctx,
        )
        expect(outcome.status).toBe('limit')
        expect(outcome.error).toContain("1100 tokens, over the job's cap of 1000")
        const id = running.double.startedRuns()[0] ?? ''
        expect(running.double.run(id)?.state).toBe('cancelled')
      })
    })

    it('a completed run over the cap ends limit, with its answer kept', async () => {
      const script = (): HermesScriptStep[] => [
        { kind: 'complete', output: 'big', usage: { inputTokens: 800, outputTokens: 400 } },
      ]
      await withDouble({ script }, async (running) => {
        const outcome = await backendFor(running).run(
          task({ limits: { maxTurns: 5, wallMs: 10_000, maxTokens: 1_000 } }),
          recorder().ctx,
        )
        expect(outcome).toMatchObject({ status: 'limit', answer: 'big', usage: { totalTokens: 1200 } })
      })
    })
  })

  it('a failed run says why', async () => {
    await withDouble(
      { script: () => [{ kind: 'fail', error: '⚠️ Provider authentication failed: bad key' }] },
      async (running) => {
        const outcome = await backendFor(running).run(task(), recorder().ctx)
        expect(outcome.status).toBe('failed')
        expect(outcome.error).toBe('the Hermes run failed: ⚠️ Provider authentication failed: bad key')
      },
    )
  })

  describe('bad input from the server is a clear reason, never a crash', () => {
    it('garbage frames are skipped with a note; the run still completes', async () => {
      const script = (): HermesScriptStep[] => [
        { kind: 'delta', text: 'before' },
        { kind: 'raw', text: 'data: {not json at all\n\n' },
        { kind: 'raw', text: 'data: {"event":"tool.started","tool":42}\n\n' },
        { kind: 'raw', text: 'data: {"no_event_name":true}\n\n' },
        { kind: 'delta', text: 'after' },
        { kind: 'complete', output: 'fine' },
      ]
      await withDouble({ script }, async (running) => {
        const rec = recorder()
        const outcome = await backendFor(running).run(task(), rec.ctx)
        expect(outcome).toMatchObject({ status: 'completed', answer: 'fine' })
        expect(deltas(rec.events)).toEqual(['before', 'after'])
        const notes = rec.events.flatMap((e) => (e.kind === 'note' ? [e.text] : []))
        expect(notes).toEqual([
          expect.stringContaining('unreadable event frame'),
          expect.stringContaining('malformed tool.started event (tool:'),
          expect.stringContaining('without an event name'),
        ])
      })
    })

    it('a stream of garbage is given up and the status polled', async () => {
      const garbage = Array.from({ length: 5 }, () => ({ kind: 'raw' as const, text: 'data: <html>\n\n' }))
      await withDouble(
        { script: () => [...garbage, { kind: 'sleep', ms: 50 }, { kind: 'complete', output: 'ok' }] },
        async (running) => {
          const rec = recorder()
          const outcome = await backendFor(running).run(task(), rec.ctx)
          expect(outcome).toMatchObject({ status: 'completed', answer: 'ok' })
          expect(rec.events.find((e) => e.kind === 'stream.lost')).toMatchObject({
            reason: expect.stringContaining('3 unreadable event frames'),
          })
        },
      )
    })

    it('an unreadable run status ends failed with the reason', async () => {
      await withDouble(
        {
          script: () => [
            { kind: 'dropStream' },
            { kind: 'sleep', ms: 50 },
            { kind: 'complete', output: 'x' },
          ],
        },
        async (running) => {
          running.double.faults.add({
            status: 200,
            body: '{"status": oops',
            match: { method: 'GET', path: /^\/v1\/runs\/[^/]+$/ },
          })
          const outcome = await backendFor(running).run(task(), recorder().ctx)
          expect(outcome.status).toBe('failed')
          expect(outcome.error).toMatch(/^the Hermes server sent an unreadable run status: not JSON/)
        },
      )
    })

    it('an unreadable answer to the start ends failed with the reason', async () => {
      await withDouble({}, async (running) => {
        running.double.faults.add({
          status: 202,
          body: '{"run": 1}',
          match: { method: 'POST', path: '/v1/runs' },
        })
        const outcome = await backendFor(running).run(task(), recorder().ctx)
        expect(outcome.status).toBe('failed')
        expect(outcome.error).toContain('answer to POST /v1/runs is unreadable: unexpected shape at run_id')
      })
    })

    it('a 409 idempotency conflict is a failure naming the code', async () => {
      await withDouble({}, async (running) => {
        await backendFor(running).run(task(), recorder().ctx)
        const outcome = await backendFor(running).run(task({ input: 'a different question' }), recorder().ctx)
        expect(outcome.status).toBe('failed')
        expect(outcome.error).toContain('HTTP 409 idempotency_key_conflict')
      })
    })
  })

  it('401: failed, naming the key variable and never the key', async () => {
    await withDouble({}, async (running) => {
      const wrong = 'hk-WRONG-key-planted-9d8c7b6a5f4e'
      const rec = recorder()
      const outcome = await backendFor(running, { apiKey: wrong }).run(task(), rec.ctx)
      expect(outcome.status).toBe('failed')
      expect(outcome.error).toContain('rejected the API key (HTTP 401)')
      expect(outcome.error).toContain('EZRA_HERMES_KEY')
      const seen = JSON.stringify({ outcome, events: rec.events })
      expect(seen).not.toContain(wrong)
      expect(seen).not.toContain(PLANTED_KEY)
    })
  })

  it('the API key never appears in an event or an outcome, even when the agent or the server echoes it', async () => {
    const script = (): HermesScriptStep[] => [
      { kind: 'delta', text: `my key is ${PLANTED_KEY}` },
      {
        kind: 'tool',
        tool: 'terminal',
        preview: `curl -H "Authorization: Bearer ${PLANTED_KEY}"`,
        result: PLANTED_KEY,
      },
      { kind: 'approval', command: `echo ${PLANTED_KEY}`, description: `leak ${PLANTED_KEY}` },
      { kind: 'fail', error: `upstream said Bearer ${PLANTED_KEY} is bad` },
    ]
    await withDouble({ script }, async (running) => {
      const rec = recorder()
      const outcome = await backendFor(running).run(task(), rec.ctx)
      expect(outcome.status).toBe('failed')
      const seen = JSON.stringify({ outcome, events: rec.events, approvals: rec.approvals })
      expect(seen).toContain('[redacted]')
      expect(seen).not.toContain(PLANTED_KEY)
    })
  })

  it('log lines never carry the key either', async () => {
    const lines: string[] = []
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString())
        done()
      },
    })
    const logger = createLogger({ level: 'debug', destination })
    const script = (): HermesScriptStep[] => [
      { kind: 'delta', text: 'x' },
      { kind: 'sleep', ms: 100 },
      { kind: 'dropStream' },
      { kind: 'complete', output: PLANTED_KEY },
    ]
    await withDouble({ script }, async (running) => {
      running.double.faults.rejectStarts(503, 1)
      running.double.faults.add({
        status: 500,
        body: JSON.stringify({ error: { message: `leaked ${PLANTED_KEY}`, code: 'oops' } }),
        count: 2,
        match: { method: 'GET', path: /^\/v1\/runs\/[^/]+$/ },
      })
      const outcome = await backendFor(running, { logger }).run(task(), recorder().ctx)
      expect(outcome).toMatchObject({ status: 'completed', answer: '[redacted]' })
    })
    expect(lines.join('\n')).toContain('event stream lost')
    expect(lines.join('\n')).toContain('[redacted]')
    expect(lines.join('\n')).not.toContain(PLANTED_KEY)
  })

  it('health() answers from GET /health, and says why when the server is away', async () => {
    let url = ''
    await withDouble({ version: '0.9.1' }, async (running) => {
      url = running.url
      expect(await backendFor(running).health()).toEqual({ ok: true, detail: 'Hermes 0.9.1: ok' })
      expect(running.double.requests.at(-1)).toMatchObject({ path: '/health', authorized: false })
    })
    const away = await backendFor({ url, double: { apiKey: PLANTED_KEY } } as never).health()
    expect(away.ok).toBe(false)
    expect(away.detail).toContain('ECONNREFUSED')
  })

  it('refuses bad options without echoing the key', () => {
    const make =
      (endpoint: string, apiKey = PLANTED_KEY) =>
      () =>
        backendFor({ url: endpoint, double: { apiKey } } as never)
    expect(make('ftp://host')).toThrow('endpoint must be an http(s) URL')
    expect(make(`http://user:${PLANTED_KEY}@host`)).toThrow('must not carry credentials')
    expect(make('http://host', '')).toThrow('the API key is empty')
    try {
      make(`http://user:${PLANTED_KEY}@host`)()
    } catch (err) {
      expect((err as Error).message).not.toContain(PLANTED_KEY)
    }
  })
})
