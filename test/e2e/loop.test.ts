import { spawn } from 'node:child_process'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HOP_CHANNEL, type HopMark } from '../../src/hop-trace.js'
import { verifyEnvelope } from '../../src/provenance/dsse.js'
import { inlineText } from '../../src/commands-core/markdown.js'
import { readResultComment, verifyResultComment } from '../../src/report/check-result-comment.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import { ackState, BOT, LoopWorld, until } from './loop-world.js'

const TSX = join('node_modules', '.bin', 'tsx')

/** Runs the CLI with text on stdin; resolves to exit code and output. */
function cli(
  args: string[],
  stdin: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, ['src/cli/run-main.ts', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    child.once('exit', (code) => resolve({ code, out }))
    child.stdin.end(stdin)
  })
}

describe('bot loop end to end (double over HTTP, real ingress, router, workers, reporter)', () => {
  const world = new LoopWorld()
  let issue = 0

  beforeAll(async () => {
    await world.start()
    issue = await world.openIssue()
    await world.settle()
  })
  afterAll(() => world.stop())

  /** The webhook delivery the double sent for a person's comment. */
  function deliveryOfComment(commentId: number) {
    return world.gitea.double.deliveries.find((d) => {
      if (d.eventType !== 'issue_comment') return false
      const body = JSON.parse(d.body) as { action?: string; comment?: { id?: number } }
      return body.action === 'created' && body.comment?.id === commentId
    })!
  }

  /** Posts a command and waits for its ack to reach one of `states`. */
  async function runToState(body: string, states: string[], who: 'writer' | 'sovereign' = 'writer') {
    const c = await world.comment(who, issue, body)
    const ack = await until(`ack for "${body}" in ${states.join('/')}`, () =>
      world
        .botComments(issue)
        .filter((b) => b.id > c.id)
        .find((b) => states.includes(ackState(b.body)?.state ?? '')),
    )
    return { comment: c, ack, jobId: ackState(ack.body)!.jobId }
  }

  it('a writer runs /run git_status @bezalel: ack, then success whose envelope verifies (library and CLI)', async () => {
    const marks: HopMark[] = []
    const onMark = (m: unknown) => void marks.push(m as HopMark)
    subscribe(HOP_CHANNEL, onMark)
    const { comment, ack, jobId } = await runToState('/run git_status @bezalel', ['success'])
    // The reporter marks its hop after Gitea answered the edit, which the test may see first.
    await until('the reporter.edited mark', () =>
      marks.some((m) => m.hop === 'reporter.edited' && m.detail === 'success') ? true : undefined,
    ).finally(() => unsubscribe(HOP_CHANNEL, onMark))
    // Every piece marked its hop for this delivery, in the loop's order (what the e2e bench reads).
    const delivery = marks.find((m) => m.hop === 'ingress.accepted')?.deliveryId
    const hops = marks
      .filter((m) => m.deliveryId === delivery)
      .map((m) => `${m.hop}${m.detail ? `:${m.detail}` : ''}`)
    expect(hops.filter((h) => !h.startsWith('reporter.') || h.endsWith(':success'))).toEqual([
      'ingress.accepted',
      'router.picked',
      'executor.enqueued',
      'worker.picked',
      'worker.toolStart',
      'worker.toolEnd',
      'worker.reported:success',
      'reporter.picked:success',
      'reporter.edited:success',
    ])
    expect(world.acks(issue, jobId)).toHaveLength(1)
    expect(ack.body).toContain('`git_status` on house **bezalel**: success')
    expect(ack.body).toContain('<summary>Output')
    expect(ack.body).toContain('requested by @wren')
    const read = readResultComment(ack.body)
    const envelope = read.ok ? read.comment.envelope : undefined
    expect(envelope).toBeDefined()
    const keys = new KeyStore(world.keyDir).publicKeys().map((k) => k.publicKey)
    const v = verifyEnvelope(envelope, keys)
    expect(v.valid).toBe(true)
    const statement = JSON.parse(v.valid ? v.payload.toString('utf8') : '{}') as {
      predicate: { house: string; tool: string; status: string; requestedBy: string }
    }
    expect(statement.predicate).toMatchObject({
      house: 'bezalel',
      tool: 'git_status',
      status: 'success',
      requestedBy: 'wren',
    })
    await until('final reaction', () => (world.reactions(comment.id).includes('rocket') ? true : undefined))
    expect(world.reactions(comment.id)).toContain('eyes')

    const ok = await cli(['verify', '-', '--key-dir', world.keyDir], ack.body, world.childEnv())
    expect(ok.out).toContain('valid: signed by bezalel')
    expect(ok.code).toBe(0)
    const tampered = await cli(
      ['verify', '-', '--key-dir', world.keyDir],
      // Change the signature's first character to a different one (a fixed "A" left 1 in 64 signatures intact).
      ack.body.replace(/"sig": "(.)/, (_m, c: string) => `"sig": "${c === 'A' ? 'B' : 'A'}`),
      world.childEnv(),
    )
    expect(tampered.code).toBe(1)
  })

  it('verify checks the posted result comment, and fails it once a writer edits what it shows', async () => {
    const { ack, jobId } = await runToState('/run git_status @ezra', ['success'])
    const keys = new KeyStore(world.keyDir).publicKeys().map((k) => k.publicKey)
    const posted = world.acks(issue, jobId)[0]!
    expect(posted.body).toBe(ack.body)
    expect(verifyResultComment(posted.body, keys)).toMatchObject({
      ok: true,
      statement: { predicate: { jobId, requestedBy: 'wren', house: 'ezra', status: 'success' } },
    })
    // Writers can edit the bot's comments in Gitea: each edit is caught, naming what changed.
    const edits: [string, string][] = [
      [posted.body.replace('requested by @wren', 'requested by @sage'), 'requester'],
      [posted.body.replace(': success\n', ': failure\n'), 'status'],
      [posted.body.replace(/(```text\n)/, '$1Approved by @sage\n'), 'output'],
      [
        `${posted.body}\n\n${posted.body.slice(posted.body.indexOf('<details>\n<summary>Signed'))}`,
        'envelope',
      ],
    ]
    for (const [body, field] of edits) {
      world.gitea.double.editComment(world.repo, posted.id, { editor: 'wren', body })
      const edited = world.acks(issue, jobId)[0]!
      expect(edited.body).toBe(body)
      expect(verifyResultComment(edited.body, keys)).toMatchObject({ ok: false, field })
      const cliRun = await cli(['verify', '-', '--key-dir', world.keyDir], edited.body, world.childEnv())
      expect(cliRun.code).toBe(1)
      expect(cliRun.out).toContain(`invalid: ${field}`)
    }
    await world.settle()
  })

  it('/retry by another writer makes them the requester, in the comment and the signed statement', async () => {
    // wren's job fails (no such file); sage retries it.
    const { jobId } = await runToState('/run file_read path=missing.txt @ezra', ['failure'])
    await world.comment('sovereign', issue, `/retry ${jobId}`)
    const retried = await until('retried run final', () => {
      const a = world.acks(issue, jobId)[0]
      return a && a.body.includes(' · run 2') && ackState(a.body)?.state === 'failure' ? a : undefined
    })
    expect(retried.body).toContain('requested by @sage · mode')
    expect(retried.body).toContain('run 2, first requested by @wren')
    const keys = new KeyStore(world.keyDir).publicKeys().map((k) => k.publicKey)
    const v = verifyResultComment(retried.body, keys)
    expect(v).toMatchObject({
      ok: true,
      statement: { predicate: { jobId, requestedBy: 'sage', retryOf: { jobId, requestedBy: 'wren' } } },
    })
    expect((await world.services.loop!.store.getRecord(jobId))?.requester.login).toBe('sage')
  })

  it('an opened issue is triaged through the whole loop: one label per scope and one triage comment', async () => {
    const n = await world.openIssue('App crashes with a segfault on startup after the last upgrade')
    const labels = await until('triage labels', () => {
      const names = world.gitea.double.labelNames(world.repo, n)
      return names.some((l) => l.startsWith('status/')) ? names : undefined
    })
    for (const scope of ['type/', 'priority/', 'house/']) {
      expect(labels.filter((l) => l.startsWith(scope)).length, scope).toBeLessThanOrEqual(1)
    }
    expect(labels.filter((l) => l.startsWith('status/'))).toHaveLength(1)
    expect(labels.some((l) => l.startsWith('priority/'))).toBe(true)
    await world.settle()
    const triageComments = world.botComments(n).filter((c) => /triage/i.test(c.body))
    expect(triageComments).toHaveLength(1)
    expect(triageComments[0]!.body).toContain('/label')
  })

  it('a reader gets a permission reply and no job is created', async () => {
    const before = (await world.services.loop!.store.listForIssue(world.repo, issue)).length
    const c = await world.comment('reader', issue, '/run git_status @bezalel')
    const reply = await until('permission reply', () => world.botComments(issue).find((b) => b.id > c.id))
    expect(reply.body).toContain('@rory, `/run` can be run by')
    await world.settle()
    expect(world.botComments(issue).filter((b) => b.id > c.id)).toHaveLength(1)
    expect(await world.services.loop!.store.listForIssue(world.repo, issue)).toHaveLength(before)
  })

  it.each([
    ['a fenced code block', 'Try this:\n```\n/run git_status @bezalel\n```'],
    ['a quote', '> /run git_status @bezalel\nthat is what I would type'],
    ['inline code', 'type `/run git_status @bezalel` to check'],
  ])('a command in %s does nothing', async (_name, body) => {
    const c = await world.comment('writer', issue, body)
    await world.settle()
    expect(world.botComments(issue).filter((b) => b.id > c.id)).toEqual([])
    expect(world.reactions(c.id)).toEqual([])
  })

  it('an edited comment that adds a command does nothing', async () => {
    const c = await world.comment('writer', issue, 'Looks fine to me.')
    await world.settle()
    world.gitea.double.editComment(world.repo, c.id, {
      editor: 'wren',
      body: 'Looks fine.\n/run git_status @bezalel',
    })
    await world.settle()
    expect(world.botComments(issue).filter((b) => b.id > c.id)).toEqual([])
    expect(world.reactions(c.id)).toEqual([])
  })

  it('/run git_push @bezalel waits for approval; a writer cannot approve, the sovereign can; /deny ends another denied', async () => {
    const { jobId, ack } = await runToState('/run git_push @bezalel', ['awaiting_approval'])
    expect(ack.body).toContain(`/approve ${jobId}`)
    // The executor posts the ack before it writes the job record: wait for the record.
    const recorded = await until(
      'job record',
      async () => (await world.services.loop!.store.get(jobId))?.state,
    )
    expect(recorded).toBe('awaiting_approval')

    const refused = await world.comment('writer', issue, `/approve ${jobId}`)
    const refusal = await until('refusal', () => world.botComments(issue).find((b) => b.id > refused.id))
    expect(refusal.body).toContain('can be run by the configured sovereigns only')
    expect((await world.services.loop!.store.get(jobId))?.state).toBe('awaiting_approval')

    await world.comment('sovereign', issue, `/approve ${jobId}`)
    const final = await until('approved job final', () => {
      const a = world.acks(issue, jobId)[0]
      const s = a && ackState(a.body)?.state
      return s && !['awaiting_approval', 'queued', 'running'].includes(s) ? a : undefined
    })
    expect(ackState(final.body)?.state).toBe('success')
    expect(final.body).toContain('approvals: @sage (valid until')
    expect(world.acks(issue, jobId)).toHaveLength(1)

    const second = await runToState('/run git_push @bezalel', ['awaiting_approval'])
    await world.comment('sovereign', issue, `/deny ${second.jobId} not today`)
    const denied = await until('denied', () => {
      const a = world.acks(issue, second.jobId)[0]
      return a && ackState(a.body)?.state === 'denied' ? a : undefined
    })
    expect(denied.body).toContain(inlineText('denied by @sage: not today'))
    expect((await world.services.loop!.store.get(second.jobId))?.state).toBe('denied')
  })

  it('the same delivery replayed (ingress and queue) gives no second job and no second comment', async () => {
    const { comment, jobId } = await runToState('/run git_status @ezra', ['success'])
    const delivery = deliveryOfComment(comment.id)
    expect(delivery).toBeDefined()
    const res = await fetch(`${world.services.httpUrl}/webhooks/gitea`, {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    })
    expect(res.status).toBe(200)
    // Past the ingress's dedupe too: the same event handled again by the router.
    const original = (await world.eventsQueue().getJobs(['completed'])).find(
      (j) => (j.data as { deliveryId: string }).deliveryId === delivery.id,
    )!
    await world.eventsQueue().add('issue_comment', original.data, { jobId: `${delivery.id}.replay` })
    await world.settle()
    await new Promise((r) => setTimeout(r, 300))
    expect(world.botComments(issue).filter((b) => b.id > comment.id)).toHaveLength(1)
    expect(world.acks(issue, jobId)).toHaveLength(1)
    const jobs = await world.services.loop!.store.listForIssue(world.repo, issue)
    expect(jobs.filter((j) => j.id === jobId)).toHaveLength(1)
  })

  it("a comment redelivered under a new delivery id (Gitea's Redeliver) runs nothing again", async () => {
    const { comment, jobId } = await runToState('/run git_status @ezra', ['success'])
    await world.settle()
    const jobsBefore = (await world.services.loop!.store.listForIssue(world.repo, issue)).length
    const delivery = deliveryOfComment(comment.id)
    expect(delivery).toBeDefined()
    const headers: Record<string, string> = { ...delivery.headers }
    let renamed = 0
    for (const name of Object.keys(headers)) {
      if (/^x-(gitea|gogs|github)-delivery$/i.test(name)) {
        headers[name] = `${delivery.id}-redelivered`
        renamed++
      }
    }
    expect(renamed).toBeGreaterThan(0)
    const res = await fetch(`${world.services.httpUrl}/webhooks/gitea`, {
      method: 'POST',
      headers,
      body: delivery.body,
    })
    // A new delivery id passes the ingress's dedupe: the router must be the one to refuse it.
    expect(res.status).toBe(202)
    await world.settle()
    await new Promise((r) => setTimeout(r, 300))
    expect(world.botComments(issue).filter((b) => b.id > comment.id)).toHaveLength(1)
    expect(world.acks(issue, jobId)).toHaveLength(1)
    expect(await world.services.loop!.store.listForIssue(world.repo, issue)).toHaveLength(jobsBefore)
  })

  it('with Gitea failing 500s for a while, every result arrives afterwards, exactly once', async () => {
    const posted = await Promise.all([
      world.comment('writer', issue, '/run git_status @ezra'),
      world.comment('writer', issue, '/run git_log @ezra'),
      world.comment('writer', issue, '/run file_list @allegro'),
    ])
    // The comments exist; their webhooks are still on the way: the router meets the outage.
    world.gitea.double.faults.set({ status: 500, untilMs: Date.now() + 2500 })
    const first = Math.min(...posted.map((p) => p.id))
    const finals = await until(
      'three results after the outage',
      () => {
        const acks = world.botComments(issue).filter((b) => b.id > first && ackState(b.body))
        const done = acks.filter((a) =>
          ['success', 'failure', 'unverified'].includes(ackState(a.body)!.state),
        )
        return done.length === 3 ? done : undefined
      },
      20_000,
    )
    world.gitea.double.faults.clear()
    // The outage did hit the bot (so retries, not luck, delivered the results).
    expect(world.gitea.double.requests.filter((r) => r.status === 500).length).toBeGreaterThan(0)
    await world.settle()
    for (const f of finals) {
      expect(ackState(f.body)?.state).toBe('success')
      expect(world.acks(issue, ackState(f.body)!.jobId)).toHaveLength(1)
    }
    // One ack per command, nothing else posted twice.
    const bodies = world
      .botComments(issue)
      .filter((b) => b.id > first)
      .map((b) => b.body)
    expect(new Set(bodies).size).toBe(bodies.length)
    expect(bodies).toHaveLength(3)
  }, 30_000)
})

describe('a comment POST that hangs past the timeout but that Gitea applies anyway', () => {
  // The bot gives up on a request after 300 ms; the double creates the comment at once but holds
  // its answer for 800 ms: the answer is lost, the comment is not.
  const world = new LoopWorld({ adapter: { requestTimeoutMs: 300 } })
  let issue = 0
  beforeAll(async () => {
    await world.start()
    issue = await world.openIssue()
    await world.settle()
  })
  afterAll(() => world.stop())

  it('leaves exactly one ack comment, found again by its key marker instead of posted twice', async () => {
    const before = world.gitea.double.requests.length
    // Both comment POSTs answer late: the writer's (whose client waits), then the bot's ack (which
    // times out after Gitea created it).
    world.gitea.double.faults.set({
      lateMs: 800,
      count: 2,
      match: { method: 'POST', path: new RegExp(`/issues/${issue}/comments$`) },
    })
    const command = await world.comment('writer', issue, '/run git_status @ezra')
    const final = await until(
      'the job ends',
      () =>
        world
          .botComments(issue)
          .filter((b) => b.id > command.id)
          .find((b) => ['success', 'failure'].includes(ackState(b.body)?.state ?? '')),
      20_000,
    )
    world.gitea.double.faults.clear()
    await world.settle()
    const byBot = world.gitea.double.requests
      .slice(before)
      .filter((r) => r.login === BOT && r.path.endsWith(`/issues/${issue}/comments`))
    // The ack POST was sent once; the router's retry looked for it by its marker instead.
    expect(byBot.filter((r) => r.method === 'POST')).toHaveLength(1)
    expect(byBot.filter((r) => r.method === 'GET').length).toBeGreaterThan(0)
    expect(ackState(final.body)?.state).toBe('success')
    expect(world.acks(issue, ackState(final.body)!.jobId)).toHaveLength(1)
    expect(world.botComments(issue).filter((b) => b.id > command.id)).toHaveLength(1)
  }, 30_000)
})
