import { describe, expect, it } from 'vitest'
import { slashCommands } from '../../handlers/slash-commands.js'
import type { Effect } from '../../src/effects/effects.js'
import { inlineText } from '../../src/commands-core/markdown.js'
import { jobIdFor } from '../../src/effects/idempotency.js'
import type { JobView } from '../../src/jobs/jobs.js'
import { commentEvent, CONFIG, job, REPO, world } from './helpers/world.js'
import type { CommentEvent } from '../../src/events/comment-event.js'

// The /approve comment, which the router's signed approval attestation names.
const APPROVE_COMMENT = { id: 77, url: 'http://gitea/o/r/issues/1#issuecomment-77' }
const eyes = { type: 'react', repo: REPO, target: { commentId: 77 }, reaction: 'eyes' }
const JOB0 = jobIdFor({ deliveryId: 'd-1', commentId: 77 }, 0)
const comment = (key: string, ...parts: (string | RegExp)[]) =>
  expect.objectContaining({
    type: 'comment',
    repo: REPO,
    issue: 1,
    key: `c:d-1:77:${key}`,
    body: expect.toSatisfy((b: string) =>
      parts.every((p) => (typeof p === 'string' ? b.includes(p) : p.test(b))),
    ),
  })
const enqueue = (job: Record<string, unknown>, approval: Record<string, unknown> = { required: false }) =>
  expect.objectContaining({
    type: 'enqueueJob',
    job: expect.objectContaining({
      jobId: JOB0,
      ackCommentKey: 'c:d-1:77:ack_0',
      approval: expect.objectContaining(approval),
      ...job,
    }),
  })

interface Case {
  name: string
  event: CommentEvent
  state?: { issueLabels?: string[]; jobs?: JobView[]; permissionFails?: boolean; defaultHouse?: string }
  expected: unknown[]
}

const cases: Case[] = [
  {
    name: 'a writer runs a tool on a named house',
    event: commentEvent('/run git_status @bezalel'),
    expected: [
      eyes,
      comment('ack_0', JOB0, '**bezalel**', 'queued', 'named in the command', `/status ${JOB0}`),
      enqueue({
        house: 'bezalel',
        tool: 'git_status',
        args: {},
        mode: 'SIMPLE',
        dryRun: false,
        requester: { login: 'wendy', id: 5 },
        origin: expect.objectContaining({
          deliveryId: 'd-1',
          commentId: 77,
          command: '/run git_status @bezalel',
        }),
      }),
    ],
  },
  {
    name: 'the command in a code block',
    event: commentEvent('```\n/run git_status @bezalel\n```'),
    expected: [],
  },
  { name: 'the command in a quote', event: commentEvent('> /run git_status @bezalel'), expected: [] },
  { name: 'the command in inline code', event: commentEvent('`/run git_status @bezalel`'), expected: [] },
  { name: 'the command in an HTML comment', event: commentEvent('<!--\n/run git_status\n-->'), expected: [] },
  {
    name: 'an edited comment',
    event: commentEvent('/run git_status @bezalel', { action: 'edited' }),
    expected: [],
  },
  {
    name: 'a deleted comment',
    event: commentEvent('/run git_status @bezalel', { action: 'deleted' }),
    expected: [],
  },
  {
    name: 'the bot itself (any case)',
    event: commentEvent('/run git_status @bezalel', { author: { login: 'UW-Bot', id: 1 } }),
    expected: [],
  },
  { name: 'a comment without commands', event: commentEvent('thanks! see /docs'), expected: [] },
  {
    name: 'a reader is denied a write command',
    event: commentEvent('/run git_status @bezalel', { author: { login: 'rita', id: 6 } }),
    expected: [comment('denied_0', '> `/run git_status @bezalel`', 'write access', 'is `read`')],
  },
  {
    name: 'a non-collaborator is denied',
    event: commentEvent('/label kind/bug', { author: { login: 'mallory', id: 7 } }),
    expected: [comment('denied_0', 'is `none`')],
  },
  {
    name: 'a failing permission check denies (fail closed)',
    event: commentEvent('/run git_status @bezalel'),
    state: { permissionFails: true },
    expected: [
      expect.objectContaining({ type: 'log', level: 'warn' }),
      comment('denied_0', 'could not be checked', 'HTTP 502'),
    ],
  },
  {
    name: 'a reader may run read commands without a permission call',
    event: commentEvent('/status', { author: { login: 'mallory', id: 7 } }),
    state: { permissionFails: true },
    expected: [eyes, comment('status_0', 'No jobs on this issue yet')],
  },
  {
    name: 'unknown commands get one reply with did-you-mean',
    event: commentEvent('/stauts\n/frobnicate\n/hlep'),
    expected: [
      comment('unknown', '`/stauts`', 'Did you mean `/status`', '`/frobnicate` is not a command', '`/help`'),
    ],
  },
  {
    name: 'bad arguments quote the command and give the usage',
    event: commentEvent('/run'),
    expected: [comment('bad-args_0', '> `/run`', 'name the tool', 'Usage: `/run <tool>')],
  },
  {
    name: '/run takes the house from the issue label',
    event: commentEvent('/run git_status'),
    state: { issueLabels: ['house/bezalel'] },
    // The house reason holds a label name, so it is rendered inert (escaped) like all such text.
    expected: [
      eyes,
      comment('ack_0', inlineText('from the label house/bezalel')),
      enqueue({ house: 'bezalel', houseReason: 'from the label house/bezalel' }),
    ],
  },
  {
    name: '/run falls back to the default house that allows the tool',
    event: commentEvent('/run git_status path=. --dry-run'),
    expected: [
      eyes,
      comment('ack_0', '**ezra**', 'the default house', 'dry run'),
      enqueue({ house: 'ezra', args: { path: '.' }, dryRun: true, mode: 'INTELLIGENT' }),
    ],
  },
  {
    name: '/run uses the first house that allows the tool when the default does not',
    event: commentEvent('/run http_get url="https://x.test/a b"'),
    expected: [
      eyes,
      comment('ack_0', '**timmy**', 'the first house that allows'),
      enqueue({ house: 'timmy', args: { url: 'https://x.test/a b' } }, { required: true }),
    ],
  },
  {
    name: '/run of a write tool on an approval house waits with the exact /approve line',
    event: commentEvent('/run git_push @bezalel'),
    expected: [
      eyes,
      comment('ack_0', 'awaiting approval', `\n/approve ${JOB0}\n`, '@timmy', '2026-01-01T01:00:30.000Z'),
      enqueue(
        { house: 'bezalel', tool: 'git_push' },
        { required: true, approvers: ['timmy'], ttlSeconds: 3600, allowSelfApproval: false },
      ),
    ],
  },
  {
    name: '/run --mode sovereign needs approval on any house',
    event: commentEvent('/run git_status @ezra --mode sovereign'),
    expected: [
      eyes,
      comment('ack_0', 'awaiting approval'),
      enqueue({ mode: 'SOVEREIGN' }, { required: true }),
    ],
  },
  {
    name: '/run --mode simple on a SOVEREIGN house still runs SOVEREIGN, needs approval, and says so',
    event: commentEvent('/run http_get url=https://x.test @timmy --mode simple'),
    expected: [
      eyes,
      comment(
        'ack_0',
        'mode SOVEREIGN',
        inlineText('--mode simple ignored'),
        inlineText('always runs in SOVEREIGN mode'),
        'awaiting approval',
      ),
      enqueue(
        {
          house: 'timmy',
          mode: 'SOVEREIGN',
          houseReason: expect.stringContaining(
            '--mode simple ignored: house timmy always runs in SOVEREIGN mode',
          ),
        },
        { required: true, approvers: ['timmy', 'sage'] },
      ),
    ],
  },
  {
    name: '/run --mode intelligent on a SOVEREIGN house from its label is overruled too',
    event: commentEvent('/run git_status --mode=intelligent'),
    state: { issueLabels: ['house/timmy'] },
    expected: [
      eyes,
      comment('ack_0', inlineText('from the label house/timmy'), inlineText('--mode intelligent ignored')),
      enqueue({ house: 'timmy', mode: 'SOVEREIGN' }, { required: true }),
    ],
  },
  {
    name: '/run --mode sovereign on a SOVEREIGN house needs no note',
    event: commentEvent('/run git_status @timmy --mode sovereign'),
    expected: [
      eyes,
      comment('ack_0', 'house chosen: named in the command\n'),
      enqueue({ house: 'timmy', mode: 'SOVEREIGN', houseReason: 'named in the command' }, { required: true }),
    ],
  },
  {
    name: '/run --mode simple on an INTELLIGENT house is chosen freely',
    event: commentEvent('/run git_status @ezra --mode simple'),
    expected: [
      eyes,
      comment('ack_0', 'mode SIMPLE', 'queued'),
      enqueue({ house: 'ezra', mode: 'SIMPLE', houseReason: 'named in the command' }),
    ],
  },
  {
    name: '/run of a tool the house does not allow lists what it allows',
    event: commentEvent('/run deploy @ezra'),
    expected: [eyes, comment('run-error_0', 'does not run `deploy`', '`git_status`', '`file_read`')],
  },
  {
    name: '/run of an unknown tool suggests a close one',
    event: commentEvent('/run git_stauts @bezalel'),
    expected: [eyes, comment('run-error_0', 'no tool `git_stauts`', 'Did you mean `git_status`')],
  },
  {
    name: '/run on an unknown house suggests a close one',
    event: commentEvent('/run git_status @bezalal'),
    expected: [eyes, comment('run-error_0', 'no house `bezalal`', '@bezalel')],
  },
  {
    name: 'a writer may not approve',
    event: commentEvent('/approve j1'),
    state: { jobs: [job('j1', { state: 'awaiting_approval' })] },
    expected: [comment('denied_0', 'sovereigns only')],
  },
  {
    name: 'a sovereign approves, bound to the digest',
    event: commentEvent('/approve j1', { author: { login: 'timmy', id: 9 } }),
    state: { jobs: [job('j1', { state: 'awaiting_approval' })] },
    expected: [
      eyes,
      { type: 'approveJob', jobId: 'j1', by: 'timmy', digest: 'sha256:abc', comment: APPROVE_COMMENT },
      comment('approve_0', 'Approved job `j1`'),
    ],
  },
  {
    name: "a sovereign of another house may not approve: the refusal names the house's sovereigns",
    event: commentEvent('/approve j1', { author: { login: 'sage', id: 8 } }),
    state: { jobs: [job('j1', { state: 'awaiting_approval', approvers: ['timmy'] })] },
    expected: [
      eyes,
      comment(
        'approve_0',
        '> `/approve j1`',
        'not a sovereign of house **bezalel**',
        'approved only by @timmy',
        'keeps waiting',
      ),
    ],
  },
  {
    name: 'approvers are compared case-insensitively',
    event: commentEvent('/approve j1', { author: { login: 'Timmy', id: 9 } }),
    state: { jobs: [job('j1', { state: 'awaiting_approval', approvers: ['timmy'] })] },
    expected: [
      eyes,
      { type: 'approveJob', jobId: 'j1', by: 'Timmy', digest: 'sha256:abc', comment: APPROVE_COMMENT },
      comment('approve_0', 'Approved job `j1`'),
    ],
  },
  {
    name: 'the requester may not approve their own job without allowSelfApproval',
    event: commentEvent('/approve j1', { author: { login: 'timmy', id: 9 } }),
    state: {
      jobs: [job('j1', { state: 'awaiting_approval', requester: 'TIMMY', approvers: ['timmy', 'sage'] })],
    },
    expected: [
      eyes,
      comment(
        'approve_0',
        '> `/approve j1`',
        'does not allow self-approval',
        'only by @sage',
        'keeps waiting',
      ),
    ],
  },
  {
    name: 'a lone sovereign who asked for the job is told nobody can approve it',
    event: commentEvent('/approve j1', { author: { login: 'timmy', id: 9 } }),
    state: { jobs: [job('j1', { state: 'awaiting_approval', requester: 'timmy' })] },
    expected: [eyes, comment('approve_0', 'no sovereign can approve it', '`houses.bezalel.sovereigns`')],
  },
  {
    name: 'the requester approves their own job when the house allows self-approval',
    event: commentEvent('/approve j1', { author: { login: 'timmy', id: 9 } }),
    state: {
      jobs: [job('j1', { state: 'awaiting_approval', requester: 'timmy', allowSelfApproval: true })],
    },
    expected: [
      eyes,
      { type: 'approveJob', jobId: 'j1', by: 'timmy', digest: 'sha256:abc', comment: APPROVE_COMMENT },
      comment('approve_0', 'Approved job `j1`'),
    ],
  },
  {
    name: 'a sovereign of another house may not deny',
    event: commentEvent('/deny j1', { author: { login: 'sage', id: 8 } }),
    state: { jobs: [job('j1', { state: 'awaiting_approval', approvers: ['timmy'] })] },
    expected: [
      eyes,
      comment('deny_0', '> `/deny j1`', 'not denied', 'denied only by @timmy', 'keeps waiting'),
    ],
  },
  {
    name: 'the requester, a sovereign of the house, may withdraw their own request with /deny',
    event: commentEvent('/deny j1', { author: { login: 'timmy', id: 9 } }),
    state: { jobs: [job('j1', { state: 'awaiting_approval', requester: 'timmy' })] },
    expected: [
      eyes,
      { type: 'denyJob', jobId: 'j1', by: 'timmy', reason: undefined },
      comment('deny_0', 'Denied job `j1`'),
    ],
  },
  {
    name: '/run asks the sovereigns of the chosen house only',
    event: commentEvent('/run http_get url=https://x.test @allegro --mode sovereign'),
    expected: [
      eyes,
      comment('ack_0', 'awaiting approval', '@sage'),
      enqueue(
        { house: 'allegro', mode: 'SOVEREIGN' },
        { required: true, approvers: ['sage'], allowSelfApproval: true },
      ),
    ],
  },
  {
    name: 'a sovereign denies with a reason',
    event: commentEvent('/deny j1 not today', { author: { login: 'timmy', id: 9 } }),
    state: { jobs: [job('j1', { state: 'awaiting_approval' })] },
    expected: [
      eyes,
      { type: 'denyJob', jobId: 'j1', by: 'timmy', reason: 'not today' },
      comment('deny_0', 'not today'),
    ],
  },
  {
    name: "a router retry of the sovereign's /approve repeats the effect when the job never reached its queue",
    event: commentEvent('/approve j1', { author: { login: 'timmy', id: 9 } }),
    state: { jobs: [job('j1', { state: 'queued', approvedBy: 'Timmy' })] },
    expected: [
      eyes,
      { type: 'approveJob', jobId: 'j1', by: 'timmy', digest: 'sha256:abc', comment: APPROVE_COMMENT },
      comment('approve_0', 'Approved job `j1`'),
    ],
  },
  {
    name: 'a job approved by someone else is not approved again',
    event: commentEvent('/approve j1', { author: { login: 'timmy', id: 9 } }),
    state: { jobs: [job('j1', { state: 'queued', approvedBy: 'sage' })] },
    expected: [eyes, comment('approve_0', 'is **queued**, not awaiting approval')],
  },
  {
    name: 'approving a job that is not waiting says so',
    event: commentEvent('/approve j1', { author: { login: 'timmy', id: 9 } }),
    state: { jobs: [job('j1', { state: 'running' })] },
    expected: [eyes, comment('approve_0', 'is **running**, not awaiting approval')],
  },
  {
    name: 'approving a running agent job binds the approval to the request it waits for',
    event: commentEvent('/approve j1 diff-1', { author: { login: 'timmy', id: 9 } }),
    state: {
      jobs: [
        job('j1', {
          state: 'running',
          tool: 'agent.implement',
          pendingApproval: { id: 'diff-1', what: 'pushing the diff', digest: 'sha256:d1' },
        }),
      ],
    },
    expected: [
      eyes,
      expect.objectContaining({ type: 'approveJob', jobId: 'j1', by: 'timmy', digest: 'sha256:d1' }),
      comment('approve_0', 'Approved pushing the diff', '`sha256:d1`'),
    ],
  },
  {
    name: 'an approval of a running job must name its request; another request approves nothing',
    event: commentEvent('/approve j1 diff-0\n/approve j1', { author: { login: 'timmy', id: 9 } }),
    state: {
      jobs: [
        job('j1', {
          state: 'running',
          tool: 'agent.implement',
          pendingApproval: { id: 'diff-1', what: 'pushing the diff', digest: 'sha256:d1' },
        }),
      ],
    },
    expected: [
      eyes,
      comment(
        'approve_0',
        'does not wait for request `diff-0`',
        'Nothing was approved',
        '`/approve j1 diff-1`',
      ),
      comment('approve_1', 'Name that request to approve it', '`/approve j1 diff-1`'),
    ],
  },
  {
    name: 'a running agent job is approved only by its own sovereigns',
    event: commentEvent('/approve j1', { author: { login: 'sage', id: 10 } }),
    state: {
      jobs: [
        job('j1', {
          state: 'running',
          pendingApproval: { id: 'diff-1', what: 'pushing the diff', digest: 'sha256:d1' },
        }),
      ],
    },
    expected: [eyes, comment('approve_0', 'timmy')],
  },
  {
    name: 'denying what a running agent job waits for',
    event: commentEvent('/deny j1 not this way', { author: { login: 'timmy', id: 9 } }),
    state: {
      jobs: [
        job('j1', {
          state: 'running',
          pendingApproval: { id: 'diff-1', what: 'pushing the diff', digest: 'sha256:d1' },
        }),
      ],
    },
    expected: [
      eyes,
      { type: 'denyJob', jobId: 'j1', by: 'timmy', reason: 'not this way' },
      comment('deny_0', 'Denied job `j1`: not this way'),
    ],
  },
  {
    name: 'a job of another repository is unknown here',
    event: commentEvent('/cancel j1'),
    state: { jobs: [job('j1', { repo: { owner: 'other', name: 'secret' } })] },
    expected: [eyes, comment('cancel_0', 'no job `j1` in this repository')],
  },
  {
    name: 'cancelling a running job',
    event: commentEvent('/cancel j1'),
    state: { jobs: [job('j1', { state: 'running' })] },
    expected: [
      eyes,
      { type: 'cancelJob', jobId: 'j1', by: 'wendy', reason: undefined },
      comment('cancel_0', 'Cancelling'),
    ],
  },
  {
    name: 'cancelling a finished job',
    event: commentEvent('/cancel j1'),
    state: { jobs: [job('j1', { state: 'success' })] },
    expected: [eyes, comment('cancel_0', 'already ended (**success**)')],
  },
  {
    name: 'retrying a failed job uses a new keyed id',
    event: commentEvent('/retry j1'),
    state: { jobs: [job('j1', { state: 'failure' })] },
    expected: [
      eyes,
      { type: 'retryJob', jobId: 'j1', by: 'wendy', byId: 5, key: JOB0 },
      comment('retry_0', 'Retrying'),
    ],
  },
  {
    name: 'retrying a job in a checkout says it works on the issue workspace as it is now',
    event: commentEvent('/retry j1'),
    state: {
      jobs: [job('j1', { state: 'failure', checkout: { target: 'head of main', commit: 'ab'.repeat(20) } })],
    },
    expected: [
      eyes,
      { type: 'retryJob', jobId: 'j1', by: 'wendy', byId: 5, key: JOB0 },
      comment('retry_0', 'Retrying', "this issue's workspace as it is now", 'not necessarily on the commit'),
    ],
  },
  {
    name: 'a denied job (an expired request) is retried: the new run asks for approval again',
    event: commentEvent('/retry j1'),
    state: { jobs: [job('j1', { state: 'denied' })] },
    expected: [
      eyes,
      { type: 'retryJob', jobId: 'j1', by: 'wendy', byId: 5, key: JOB0 },
      comment('retry_0', 'Retrying'),
    ],
  },
  {
    name: 'a router retry of /retry repeats the effect when its run is already recorded',
    event: commentEvent('/retry j1'),
    state: { jobs: [job('j1', { state: 'queued', retryKeys: [JOB0] })] },
    expected: [
      eyes,
      { type: 'retryJob', jobId: 'j1', by: 'wendy', byId: 5, key: JOB0 },
      comment('retry_0', 'Retrying'),
    ],
  },
  {
    name: 'a queued job retried by another command is not retried again',
    event: commentEvent('/retry j1'),
    state: { jobs: [job('j1', { state: 'queued', retryKeys: ['j0000000000ff'] })] },
    expected: [eyes, comment('retry_0', 'is **queued**', 'only jobs that ended in failure')],
  },
  {
    name: 'a success is not retried',
    event: commentEvent('/retry j1'),
    state: { jobs: [job('j1', { state: 'success' })] },
    expected: [eyes, comment('retry_0', 'is **success**', 'only jobs that ended in failure', 'denied')],
  },
  {
    name: '/status lists the jobs of the issue',
    event: commentEvent('/status'),
    state: { jobs: [job('j1'), job('j2', { state: 'success', finishedAt: '2026-01-01T00:01:00Z' })] },
    expected: [
      eyes,
      comment('status_0', '`j1`', '**queued**', '`j2`', '**success** since 2026-01-01T00:01:00Z'),
    ],
  },
  {
    name: '/status <job> shows where a job in a checkout works: its target and the commit it started from',
    event: commentEvent('/status j1'),
    state: {
      jobs: [job('j1', { state: 'success', checkout: { target: 'PR #4 head', commit: 'ab'.repeat(20) } })],
    },
    expected: [eyes, comment('status_0', '`j1`', 'in a checkout of PR #4 head at `abababababab`')],
  },
  {
    name: '/houses shows tools and liveness',
    event: commentEvent('/houses'),
    expected: [
      eyes,
      comment(
        'houses_0',
        '**ezra** (default)',
        'alive (2 workers), degraded to SIMPLE: `host-1:42:bezalel`: queue wait 75 s \\> 60 s |',
        'no live worker',
        '`git_*`',
      ),
    ],
  },
  {
    name: '/assign replaces the house label',
    event: commentEvent('/assign @bezalel'),
    state: { issueLabels: ['house/ezra', 'kind/bug'] },
    expected: [
      eyes,
      { type: 'removeLabels', repo: REPO, issue: 1, labels: ['house/ezra'] },
      { type: 'addLabels', repo: REPO, issue: 1, labels: ['house/bezalel'] },
      comment('assign_0', 'Routed to house **bezalel**'),
    ],
  },
  {
    name: '/assign to a house without a label in the repo says so',
    event: commentEvent('/assign @allegro'),
    expected: [eyes, comment('assign_0', '`house/allegro` does not exist')],
  },
  {
    name: '/label adds known labels and explains unknown ones',
    event: commentEvent('/label KIND/BUG "good first issue" priority/hihg'),
    expected: [
      eyes,
      { type: 'addLabels', repo: REPO, issue: 1, labels: ['kind/bug', 'good first issue'] },
      comment('label_0', '`priority/hihg` does not exist', 'did you mean `priority/high`'),
    ],
  },
  {
    name: '/unlabel removes only labels that are on the issue',
    event: commentEvent('/unlabel kind/bug priority/high'),
    state: { issueLabels: ['kind/bug'] },
    expected: [
      eyes,
      { type: 'removeLabels', repo: REPO, issue: 1, labels: ['kind/bug'] },
      comment('unlabel_0', 'not removed: `priority/high`'),
    ],
  },
  {
    name: '/help for one command',
    event: commentEvent('/help run'),
    expected: [eyes, comment('help_0', '**`/run <tool>', 'Examples:', '/run git_status @bezalel')],
  },
  {
    name: '/help for an unknown command suggests one',
    event: commentEvent('/h stauts'),
    expected: [eyes, comment('help_0', 'no command `/stauts`', '`/status`', '| Command |')],
  },
  {
    name: '/triage delegates to the triage service',
    event: commentEvent('/triage'),
    expected: [eyes, { type: 'addLabels', repo: REPO, issue: 1, labels: ['kind/bug'] }],
  },
  {
    name: 'several commands in one comment, with an unknown one',
    event: commentEvent('Hi!\n/status\n> /run git_push\n/houses\n/nope'),
    expected: [
      eyes,
      comment('status_0'),
      comment('houses_1'),
      comment('unknown', '`/nope` is not a command'),
    ],
  },
  {
    name: 'a command in an issue body reacts on the issue',
    event: commentEvent('/status', { source: 'issue_body', commentId: undefined }),
    expected: [
      { type: 'react', repo: REPO, target: { issue: 1 }, reaction: 'eyes' },
      expect.objectContaining({ type: 'comment', key: 'c:d-1:body:status_0' }),
    ],
  },
]

describe('slash-commands handler', () => {
  // Found by the resilience suite (gitea-failing): a Gitea outage refused commands people were
  // allowed to run. A transient failure is thrown, so the router retries the event.
  it('throws on a transient permission failure instead of refusing', async () => {
    const w = world({})
    const event = commentEvent('/run git_status @bezalel')
    const transient = Object.assign(new Error('getCollaboratorPermission: HTTP 429'), { transient: true })
    w.port.failNext('getCollaboratorPermission', transient, 5)
    await expect(slashCommands.handle(event, w.ctx(event))).rejects.toBe(transient)
  })

  for (const c of cases) {
    it(c.name, async () => {
      const w = world({ issueLabels: c.state?.issueLabels, defaultHouse: c.state?.defaultHouse })
      w.jobs.jobs = c.state?.jobs ?? []
      if (c.state?.permissionFails) w.port.failNext('getCollaboratorPermission', new Error('HTTP 502'), 5)
      const effects = await slashCommands.handle(c.event, w.ctx(c.event))
      expect(effects).toEqual(c.expected)
    })
  }

  it('is deterministic: the same event gives the same effects (so retries are idempotent)', async () => {
    const event = commentEvent('/run git_push @bezalel\n/status')
    const a = await slashCommands.handle(event, world().ctx(event))
    const b = await slashCommands.handle(event, world().ctx(event))
    expect(a).toEqual(b)
  })

  it('renders hostile arguments inert in every reply: no heading, fence, HTML, link or ping', async () => {
    // (Quoted arguments end at the line end today; renderAck's test covers text with line breaks.)
    const evil = 'ok ### ✅ Approved by **@timmy** [x](http://e) <b>hi</b> #1 ``` ~~~'
    const q = JSON.stringify(evil)
    const lines = [
      `/deny j1 ${q}`,
      `/label ${q}`,
      `/unlabel ${q}`,
      `/run ${JSON.stringify('x`y' + evil)}`,
      `/run git_status @${'a`b'}`,
      `/help ${q}`,
    ]
    for (const line of lines) {
      const w = world({})
      w.jobs.jobs = [job('j1', { state: 'awaiting_approval' })]
      const event = commentEvent(line, { author: { login: 'timmy', id: 9 } })
      const bodies = (await slashCommands.handle(event, w.ctx(event)))
        .filter((e) => e.type === 'comment')
        .map((e) => (e.type === 'comment' ? e.body : ''))
      expect(bodies.length, line).toBeGreaterThan(0)
      for (const body of bodies) {
        // /help answers with its own table and examples block after the reply; check the reply part.
        const [quote, ...rest] = (body.split('\n\n| Command |')[0] as string).split('\n')
        // The command is quoted back in a code span its backticks cannot close.
        const ticks = /^> (`+) /.exec(quote ?? '')?.[1] ?? ''
        expect(quote?.endsWith(` ${ticks}`), line).toBe(true)
        expect(quote?.slice(2 + ticks.length, -ticks.length - 1).includes(ticks), line).toBe(false)
        for (const l of rest) expect(l, line).not.toMatch(/^\s*(#|<|```|~~~|\s{4})/)
        // Outside code spans (which render nothing), no HTML, link, mention or reference.
        const prose = rest.join('\n').replace(/(`+)[^`][\s\S]*?[^`]\1(?!`)/g, '')
        expect(prose, line).not.toMatch(/<b>|\]\(http|@timmy\b|#1\b/)
      }
    }
  })

  it('caps the commands per comment and says so once', async () => {
    const w = world({ config: { ...CONFIG, maxCommandsPerComment: 2 } })
    const event = commentEvent('/status\n/status\n/status\n/status')
    const effects: Effect[] = await slashCommands.handle(event, w.ctx(event))
    expect(
      effects.filter((e) => e.type === 'comment').map((e) => (e.type === 'comment' ? e.key : '')),
    ).toEqual(['c:d-1:77:status_0', 'c:d-1:77:status_1', 'c:d-1:77:too-many'])
  })
})

describe('slash-commands handler: bodies longer than commands.maxCommentBytes are not parsed', () => {
  const LIMIT = CONFIG.maxCommentBytes
  const pad = (head: string, bytes: number, unit = 'x') =>
    head + unit.repeat(Math.ceil((bytes - head.length) / unit.length)).slice(0, bytes - head.length)
  const log = (bytes: number, where: { commentId?: number } = { commentId: 77 }) => ({
    type: 'log',
    level: 'info',
    message: 'comment too long to read commands from',
    data: { bytes, limit: LIMIT, commentId: where.commentId },
  })
  // 23 ASCII bytes, then 2 bytes per 'é': under the limit in characters, over it in bytes.
  const accented = pad('/run git_push @bezalel\n', 40_000, 'é')
  const tooLong = (bytes: number) =>
    comment('too-long', `${bytes} bytes; the limit is ${LIMIT}`, 'none of its commands ran', '@wendy')

  it('the accented body is under the limit in characters, over it in bytes', () => {
    expect(accented.length).toBeLessThanOrEqual(LIMIT)
    expect(utf8(accented)).toBeGreaterThan(LIMIT)
  })

  const sizeCases: { name: string; event: CommentEvent; expected: unknown[] }[] = [
    {
      name: 'a command comment exactly at the limit is read',
      event: commentEvent(pad('/status\n', LIMIT)),
      expected: [eyes, comment('status_0')],
    },
    {
      name: 'one byte over: one reply, nothing run, nothing quoted',
      event: commentEvent(pad('/status\n', LIMIT + 1)),
      expected: [log(LIMIT + 1), tooLong(LIMIT + 1)],
    },
    {
      name: 'the limit is in UTF-8 bytes, not characters',
      event: commentEvent(accented),
      expected: [log(utf8(accented)), tooLong(utf8(accented))],
    },
    {
      name: 'blank lines before the command still count as starting with it',
      event: commentEvent(pad('\n  \r\n   /approve j1\n', LIMIT + 10)),
      expected: [log(LIMIT + 10), tooLong(LIMIT + 10)],
    },
    {
      name: 'a long text with a command further down stays silent',
      event: commentEvent(pad('Build log follows.\n/status\n', LIMIT * 2)),
      expected: [log(LIMIT * 2)],
    },
    {
      name: 'a long text starting with a path, not a command, stays silent',
      event: commentEvent(pad('/usr/bin/env node\n', LIMIT + 1)),
      expected: [log(LIMIT + 1)],
    },
    {
      name: 'a long text starting with an unknown /word stays silent',
      event: commentEvent(pad('/nope\n', LIMIT + 1)),
      expected: [log(LIMIT + 1)],
    },
    {
      name: 'a long issue body starting with a command: the reply says description',
      event: commentEvent(pad('/run git_status\n', LIMIT + 1), {
        source: 'issue_body',
        commentId: undefined,
      }),
      expected: [
        log(LIMIT + 1, {}),
        expect.objectContaining({
          type: 'comment',
          key: 'c:d-1:body:too-long',
          body: expect.stringContaining('this description is too long'),
        }),
      ],
    },
    {
      name: 'an edited long comment does nothing',
      event: commentEvent(pad('/status\n', LIMIT + 1), { action: 'edited' }),
      expected: [],
    },
    {
      name: "the bot's own long comment does nothing",
      event: commentEvent(pad('/status\n', LIMIT + 1), { author: { login: 'uw-bot', id: 1 } }),
      expected: [],
    },
  ]
  for (const c of sizeCases) {
    it(c.name, async () => {
      const w = world({})
      const effects = await slashCommands.handle(c.event, w.ctx(c.event))
      expect(effects).toEqual(c.expected)
      expect(w.jobs.enqueued).toEqual([])
    })
  }

  it('a 5 MiB hostile comment costs milliseconds, not the seconds a Markdown parse would', async () => {
    const body = pad('/run x\n', 5 * 1024 * 1024, '![a')
    const event = commentEvent(body)
    const t0 = performance.now()
    const effects = await slashCommands.handle(event, world({}).ctx(event))
    const ms = performance.now() - t0
    expect(effects).toEqual([log(5 * 1024 * 1024), tooLong(5 * 1024 * 1024)])
    // Parsing it takes ~4.5 s; measuring and a look at the first line take a few ms.
    expect(ms).toBeLessThan(500)
  })

  it('the reply counts against the user limit: a flood of long comments gets one notice', async () => {
    const w = world({})
    const bodies: string[] = []
    for (let i = 0; i < CONFIG.rateLimit.perUser.limit + 3; i++) {
      const event = commentEvent(pad('/status\n', LIMIT + 1), { deliveryId: `d-${i}`, commentId: 100 + i })
      for (const e of await slashCommands.handle(event, w.ctx(event)))
        if (e.type === 'comment') bodies.push(e.key)
    }
    const limit = CONFIG.rateLimit.perUser.limit
    expect(bodies.slice(0, limit)).toEqual(
      Array.from({ length: limit }, (_, i) => `c:d-${i}:${100 + i}:too-long`),
    )
    expect(bodies.slice(limit)).toEqual([`c:d-${limit}:${100 + limit}:rate-limit`])
  })
})

function utf8(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}
