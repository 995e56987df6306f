import type { JobRecord } from '../../src/jobs/job-store.js'

/**
 * A valid job record for tests that store records directly (listing, the dashboard), created
 * `ageMs` ago.
 *
 * @example
 *   await store.create(jobRecord({ id: 'j1', house: 'ezra', state: 'running' }))
 */
export function jobRecord(
  over: Omit<Partial<JobRecord>, 'requester'> & {
    id: string
    repo?: string
    requester?: string
    ageMs?: number
  },
): JobRecord {
  const { repo = 'demo/sandbox', requester = 'wren', ageMs = 0, ...rest } = over
  const [owner, name] = repo.split('/') as [string, string]
  return {
    runId: over.id,
    run: 1,
    state: 'queued',
    house: 'bezalel',
    tool: 'git_status',
    args: {},
    mode: 'SIMPLE',
    dryRun: false,
    requester: { login: requester, id: 2 },
    origin: {
      deliveryId: `d-${over.id}`,
      repo: { owner, name },
      issue: 1,
      commentId: 10,
      commentUrl: `http://gitea.test/${repo}/issues/1#issuecomment-10`,
      command: '/run git_status',
    },
    approvalRequired: false,
    approvers: [],
    approvalTtlSeconds: 3600,
    digest: 'd',
    ackCommentKey: `c:d-${over.id}:ack`,
    ackCommentId: 11,
    createdAt: new Date(Date.now() - ageMs).toISOString(),
    retryKeys: [],
    ...rest,
  }
}
