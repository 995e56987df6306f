// A job's page over the real Redis: record, timeline (and its live SSE), steps, capped output,
// the server's verify of the signed statement, and cancel/retry through BullJobs with the slash
// commands' permission rules.
import { generateKeyPairSync } from 'node:crypto'
import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { PermissionLevel } from '../../src/commands-core/permission.js'
import { BullJobs } from '../../src/jobs/bull-jobs.js'
import { RedisJobStore, type JobRecord } from '../../src/jobs/job-store.js'
import type { StoredResult } from '../../src/jobs/stored-result.js'
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../../src/provenance/dsse.js'
import { telemetryStreamKey } from '../../src/telemetry/telemetry-keys.js'
import { jobRecord } from '../helpers/job-records.js'
import {
  ADMIN_TOKEN,
  Browser,
  dashboardWorld,
  SESSION_SECRET,
  VIEWER_TOKEN,
  type DashboardWorld,
} from './dashboard-world.js'

const keys = generateKeyPairSync('ed25519')
const otherKeys = generateKeyPairSync('ed25519')
let world: DashboardWorld
let store: RedisJobStore
let jobs: BullJobs
/** What the viewer `vic` may do on each repository, as Gitea would answer. */
let permissions: Record<string, PermissionLevel>

beforeEach(async () => {
  permissions = {}
  world = await dashboardWorld({
    trustedKeys: () => [{ house: 'bezalel', key: keys.publicKey }],
  })
  store = new RedisJobStore(world.redis as never, world.prefix)
  jobs = new BullJobs({
    connection: world.redis as never,
    prefix: world.prefix,
    store,
    houses: ['bezalel', 'ezra'],
    log: pino({ level: 'silent' }),
  })
  world.deps.actions.control = jobs
  world.deps.actions.permissionOf = async (repo, login) =>
    login === 'vic' ? (permissions[`${repo.owner}/${repo.name}`] ?? 'none') : 'none'
})
afterEach(async () => {
  await jobs.close()
  await world.close()
})

async function addEvent(e: Record<string, unknown>): Promise<void> {
  await world.redis.xadd(telemetryStreamKey(world.prefix), '*', 'data', JSON.stringify(e))
}

function result(job: JobRecord, over: Partial<StoredResult> = {}): string {
  const payload = Buffer.from(
    JSON.stringify({ predicate: { house: job.house, tool: job.tool, jobId: job.id } }),
  )
  const stored: StoredResult = {
    status: 'success',
    output: 'On branch main\nnothing to commit',
    truncatedBytes: 0,
    durationMs: 12,
    attempts: 1,
    notes: [],
    host: 'worker-1',
    envelope: signEnvelope(payload, IN_TOTO_PAYLOAD_TYPE, keys.privateKey),
    ...over,
  }
  return JSON.stringify(stored)
}

async function loggedIn(token: string): Promise<Browser> {
  const b = new Browser(world)
  await b.logInWithToken(token)
  return b
}

const fields = { run: 1, house: 'bezalel', tool: 'git_status' }

describe('the job page', () => {
  it('shows the record, its timeline, its output and a verified statement', async () => {
    const job = jobRecord({ id: 'jdone', state: 'success', finishedAt: new Date().toISOString() })
    await store.create(job)
    await addEvent({ type: 'job.queued', jobId: 'jdone', ...fields, mode: 'SIMPLE', requester: 'wren' })
    await addEvent({ type: 'job.queued', jobId: 'jother', ...fields, mode: 'SIMPLE', requester: 'wren' })
    await addEvent({ type: 'job.started', jobId: 'jdone', ...fields, worker: 'w-7' })
    await addEvent({ type: 'job.finished', jobId: 'jdone', ...fields, state: 'success', durationMs: 40 })
    await store.setResult('jdone', result(job))
    const b = await loggedIn(VIEWER_TOKEN)
    const html = await (await b.request('/dashboard/jobs/jdone')).text()
    expect(html).toContain('<h1>Job jdone</h1>')
    expect(html).toContain('<code>/run git_status</code>')
    expect(html).toContain('href="http://gitea.test/demo/sandbox/issues/1#issuecomment-11"')
    const timeline = /<ol class="timeline"[^>]*>([^]*?)<\/ol>/.exec(html)?.[1] ?? ''
    expect(timeline.match(/<li>/g)).toHaveLength(3)
    expect(timeline).toContain('started on w-7')
    expect(timeline).toContain('finished: success after 40 ms')
    // A finished job has no live updates.
    expect(html).not.toContain('data-events')
    expect(html).toContain('nothing to commit')
    expect(html).toMatch(/<strong>Verified<\/strong>: signed by bezalel/)
  })

  it('says why a statement does not verify: another key, or another job', async () => {
    const job = jobRecord({ id: 'jforged', state: 'success' })
    await store.create(job)
    const forged = JSON.parse(result(job)) as StoredResult
    forged.envelope = signEnvelope(
      Buffer.from(JSON.stringify({ predicate: { house: 'bezalel', tool: 'git_status' } })),
      IN_TOTO_PAYLOAD_TYPE,
      otherKeys.privateKey,
    )
    await store.setResult('jforged', JSON.stringify(forged))
    const other = jobRecord({ id: 'jswap', state: 'success' })
    await store.create(other)
    await store.setResult('jswap', result({ ...other, id: 'jelse' }))
    const b = await loggedIn(VIEWER_TOKEN)
    expect(await (await b.request('/dashboard/jobs/jforged')).text()).toMatch(
      /<strong>Not verified<\/strong>: /,
    )
    expect(await (await b.request('/dashboard/jobs/jswap')).text()).toMatch(
      /Not verified<\/strong>: the signature holds, but the statement is about another run \(job jelse\)/,
    )
  })

  it('caps the output it shows', async () => {
    const job = jobRecord({ id: 'jbig', state: 'success' })
    await store.create(job)
    await store.setResult('jbig', result(job, { output: `${'a'.repeat(20_000)}TAIL${'b'.repeat(5000)}` }))
    const html = await (await (await loggedIn(VIEWER_TOKEN)).request('/dashboard/jobs/jbig')).text()
    expect(html).not.toContain('TAIL')
    expect(html).toContain('5004 more characters not shown here')
  })

  it('shows a running agent job’s steps and offers live updates from where the page left off', async () => {
    const job = jobRecord({ id: 'jrun', state: 'running', tool: 'implement' })
    await store.create(job)
    await store.setAgentSteps(
      'jrun',
      JSON.stringify({
        steps: [{ tool: 'file_read', status: 'success', args: 'README.md', durationMs: 3 }],
        earlier: 0,
        totalTokens: 10,
        updatedAt: new Date().toISOString(),
        message: 'reading the README',
      }),
    )
    const html = await (await (await loggedIn(VIEWER_TOKEN)).request('/dashboard/jobs/jrun')).text()
    expect(html).toContain('<code>file_read</code>')
    expect(html).toContain('reading the README')
    expect(html).toMatch(/data-events="\/dashboard\/jobs\/jrun\/events\?since=\d+-\d+"/)
  })

  it('streams the job’s new events over SSE to a session, and ends after job.finished', async () => {
    await store.create(jobRecord({ id: 'jlive', state: 'running' }))
    const b = await loggedIn(VIEWER_TOKEN)
    const anonymous = await new Browser(world).request('/dashboard/jobs/jlive/events?since=0')
    expect(anonymous.status).toBe(401)
    await addEvent({ type: 'tool.started', jobId: 'jlive', ...fields })
    await addEvent({ type: 'tool.started', jobId: 'jnot', ...fields })
    const res = await b.request('/dashboard/jobs/jlive/events?since=0')
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/)
    setTimeout(
      () =>
        void addEvent({ type: 'job.finished', jobId: 'jlive', ...fields, state: 'success', durationMs: 9 }),
      100,
    )
    const body = await res.text()
    const data = [...body.matchAll(/^data: (.*)$/gm)].map(
      (m) => JSON.parse(m[1]!) as { type: string; text: string },
    )
    expect(data.map((d) => d.type)).toEqual(['tool.started', 'job.finished'])
    expect(data[1]!.text).toBe('finished: success after 9 ms')
    expect(body).toMatch(/^event: telemetry$/m)
  })

  it('answers 404 for an unknown or malformed job id', async () => {
    const b = await loggedIn(VIEWER_TOKEN)
    expect((await b.request('/dashboard/jobs/nope')).status).toBe(404)
    expect((await b.request('/dashboard/jobs/%3Cscript%3E')).status).toBe(404)
  })

  it('shows no configured secret', async () => {
    await store.create(jobRecord({ id: 'js', state: 'running' }))
    const html = await (await (await loggedIn(ADMIN_TOKEN)).request('/dashboard/jobs/js')).text()
    for (const s of [SESSION_SECRET, VIEWER_TOKEN, ADMIN_TOKEN]) expect(html).not.toContain(s)
  })
})

describe('cancel and retry on the job page', () => {
  const form = async (b: Browser, path: string) => {
    const page = await (await b.request(path)).text()
    return {
      page,
      csrf: /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '',
      key: /name="key" value="([^"]+)"/.exec(page)?.[1],
    }
  }

  it('refuses a viewer without write access with 403 and the reason, and offers no button', async () => {
    await jobs.enqueue({ ...request('jq'), ackCommentId: 5 })
    const b = await loggedIn(VIEWER_TOKEN)
    const { page, csrf } = await form(b, '/dashboard/jobs/jq')
    expect(page).not.toContain('Cancel job')
    const res = await b.post('/dashboard/jobs/jq/cancel', { _csrf: csrf })
    expect(res.status).toBe(403)
    expect(await res.text()).toContain(
      'vic may not cancel this job: /cancel on o/r needs write access (you have none)',
    )
    expect((await store.getRecord('jq'))?.state).toBe('queued')
  })

  it('lets a viewer with write access on the repository cancel, through BullJobs', async () => {
    permissions['o/r'] = 'write'
    await jobs.enqueue({ ...request('jq'), ackCommentId: 5 })
    const b = await loggedIn(VIEWER_TOKEN)
    const { page, csrf } = await form(b, '/dashboard/jobs/jq')
    expect(page).toContain('Cancel job')
    const res = await b.post('/dashboard/jobs/jq/cancel', { _csrf: csrf })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/dashboard/jobs/jq?done=cancel')
    expect(await store.getRecord('jq')).toMatchObject({
      state: 'cancelled',
      reason: 'cancelled by @vic: from the dashboard',
    })
    expect(await (await b.request('/dashboard/jobs/jq?done=cancel')).text()).toContain('Cancel asked')
  })

  it('lets an admin retry an ended job once per form, and refuses a retry of a success', async () => {
    await jobs.enqueue({ ...request('jf'), ackCommentId: 5 })
    await jobs.cancel('jf', 'wren', undefined)
    const b = await loggedIn(ADMIN_TOKEN)
    const { csrf, key } = await form(b, '/dashboard/jobs/jf')
    expect(key).toBeDefined()
    for (let i = 0; i < 2; i++)
      expect((await b.post('/dashboard/jobs/jf/retry', { _csrf: csrf, key: key! })).status).toBe(303)
    expect(await store.getRecord('jf')).toMatchObject({
      state: 'queued',
      run: 2,
      requester: { login: 'ann' },
    })

    await store.create(jobRecord({ id: 'jok', state: 'success' }))
    const refused = await b.post('/dashboard/jobs/jok/retry', { _csrf: csrf, key: 'k'.repeat(20) })
    expect(refused.status).toBe(409)
    expect(await refused.text()).toContain('only jobs that ended in failure')
  })

  it('refuses a cancel without the CSRF token', async () => {
    permissions['o/r'] = 'write'
    await jobs.enqueue({ ...request('jq'), ackCommentId: 5 })
    const b = await loggedIn(ADMIN_TOKEN)
    expect((await b.post('/dashboard/jobs/jq/cancel', {})).status).toBe(403)
    expect((await store.getRecord('jq'))?.state).toBe('queued')
  })
})

function request(jobId: string) {
  return {
    jobId,
    house: 'bezalel',
    tool: 'git_status',
    args: {},
    mode: 'SIMPLE' as const,
    dryRun: false,
    requester: { login: 'wren', id: 2 },
    origin: {
      deliveryId: `d-${jobId}`,
      repo: { owner: 'o', name: 'r' },
      issue: 1,
      commentId: 10,
      commentUrl: 'http://gitea/o/r/issues/1#issuecomment-10',
      command: '/run git_status',
    },
    approval: { required: false, approvers: [], ttlSeconds: 3600 },
    ackCommentKey: `c:d-${jobId}:10:ack_0`,
  }
}
