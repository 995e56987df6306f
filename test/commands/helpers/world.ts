import { commands } from '../../../commands/index.js'
import type { CommentEvent } from '../../../src/events/comment-event.js'
import { createHandlerContext } from '../../../src/router/handler-context.js'
import {
  type BotConfig,
  type HandlerContext,
  type HouseInfo,
  type ToolInfo,
  type TriageService,
} from '../../../src/commands-core/command-spec.js'
import type { Effect, JobRequest } from '../../../src/effects/effects.js'
import type { JobView, JobsControl, JobsView } from '../../../src/jobs/jobs.js'
import { MemoryRateLimiter } from '../../../src/router/rate-limit.js'
import type { RepoRef } from '../../../src/gitea/port.js'
import { FakePort } from './fake-port.js'
import { houseForTask } from '../../../src/houses/house-for-task.js'
import type { IntelligenceView } from '../../../src/intelligence/intelligence-view.js'

export const REPO: RepoRef = { owner: 'o', name: 'r' }

export const HOUSES: HouseInfo[] = [
  {
    name: 'timmy',
    role: 'sovereign',
    agent: { backend: 'openai', model: 'scripted' },
    description: 'sovereign',
    allowedTools: ['*'],
    defaultMode: 'SOVEREIGN',
    approval: 'always',
    sovereigns: ['timmy', 'sage'],
    allowSelfApproval: false,
  },
  {
    name: 'ezra',
    role: 'archivist',
    agent: { backend: 'openai', model: 'scripted' },
    description: 'archivist',
    allowedTools: ['file_*', 'git_status', 'git_log'],
    defaultMode: 'INTELLIGENT',
    approval: 'never',
    sovereigns: ['timmy'],
    allowSelfApproval: false,
  },
  {
    name: 'bezalel',
    role: 'artificer',
    agent: { backend: 'openai', model: 'scripted' },
    description: 'artificer',
    allowedTools: ['git_*', 'file_*', 'system_info'],
    defaultMode: 'SIMPLE',
    approval: 'writes',
    sovereigns: ['timmy'],
    allowSelfApproval: false,
  },
  {
    name: 'allegro',
    role: 'tempo-and-dispatch',
    description: 'dispatch',
    allowedTools: ['gitea_*', 'http_get'],
    defaultMode: 'SIMPLE',
    approval: 'never',
    sovereigns: ['sage'],
    allowSelfApproval: true,
  },
]

export const TOOLS: ToolInfo[] = [
  { name: 'git_status', access: 'read', description: '' },
  { name: 'git_push', access: 'write', description: '' },
  { name: 'file_read', access: 'read', description: '' },
  { name: 'system_info', access: 'read', description: '' },
  { name: 'http_get', access: 'read', description: '' },
  { name: 'deploy', access: 'write', description: '' },
]

export const CONFIG: BotConfig = {
  rateLimit: { perUser: { limit: 5, windowSeconds: 60 }, perIssue: { limit: 20, windowSeconds: 60 } },
  maxCommandsPerComment: 10,
  maxCommentBytes: 65_536,
  approvalTtlSeconds: 3600,
  agents: { labelTriggers: false },
}

/** A job list that doubles as JobsView and a recording JobsControl. */
export class MemoryJobs implements JobsView, JobsControl {
  jobs: JobView[] = []
  enqueued: (JobRequest & { ackCommentId: number | undefined })[] = []
  calls: string[] = []

  async get(jobId: string) {
    return this.jobs.find((j) => j.id === jobId)
  }
  async listForIssue(repo: RepoRef, issue: number) {
    return this.jobs.filter(
      (j) => j.repo.owner === repo.owner && j.repo.name === repo.name && j.issue === issue,
    )
  }
  async enqueue(job: JobRequest & { ackCommentId: number | undefined }) {
    if (!this.enqueued.some((j) => j.jobId === job.jobId)) this.enqueued.push(job)
  }
  async cancel(jobId: string, by: string) {
    this.calls.push(`cancel ${jobId} ${by}`)
  }
  async retry(jobId: string, by: string, key: string) {
    this.calls.push(`retry ${jobId} ${by} ${key}`)
  }
  async approve(jobId: string, by: string, digest: string) {
    this.calls.push(`approve ${jobId} ${by} ${digest}`)
  }
  async deny(jobId: string, by: string, reason: string | undefined) {
    this.calls.push(`deny ${jobId} ${by} ${reason ?? ''}`)
  }
}

export function job(id: string, over: Partial<JobView> = {}): JobView {
  return {
    id,
    state: 'queued',
    house: 'bezalel',
    tool: 'git_status',
    requester: 'wendy',
    digest: 'sha256:abc',
    ackCommentId: 9,
    repo: REPO,
    issue: 1,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: undefined,
    finishedAt: undefined,
    approvedBy: undefined,
    approvers: ['timmy'],
    allowSelfApproval: false,
    retryKeys: [],
    ...over,
  }
}

export function commentEvent(body: string, over: Partial<CommentEvent> = {}): CommentEvent {
  return {
    deliveryId: 'd-1',
    source: 'issue_comment',
    action: 'created',
    repo: { owner: 'o', name: 'r', fullName: 'o/r' },
    issue: {
      number: 1,
      title: 'Issue 1',
      isPull: false,
      htmlUrl: 'http://gitea/o/r/issues/1',
      labels: [],
      state: 'open',
    },
    commentId: 77,
    htmlUrl: 'http://gitea/o/r/issues/1#issuecomment-77',
    author: { login: 'wendy', id: 5 },
    body,
    ...over,
  }
}

export interface World {
  port: FakePort
  jobs: MemoryJobs
  limits: MemoryRateLimiter
  triaged: string[]
  ctx(event: CommentEvent): HandlerContext
}

/**
 * Writers: wendy; readers: rita; sovereign: timmy (by config); nobody else is a collaborator.
 * `jobsView` replaces the in-memory job list (e.g. with BullJobs over a real Redis).
 */
export function world(
  opts: {
    issueLabels?: string[]
    defaultHouse?: string
    config?: BotConfig
    jobsView?: JobsView
    sovereigns?: string[]
    /** Replaces HOUSES (e.g. houses with Gitea logins). */
    houses?: HouseInfo[]
    /** Predictions for commands (absent: as before, no routing or ack by prediction). */
    intelligence?: IntelligenceView
  } = {},
): World {
  const houseList = opts.houses ?? HOUSES
  const port = new FakePort([
    'kind/bug',
    'priority/high',
    'good first issue',
    'house/ezra',
    'house/bezalel',
    'house/timmy',
  ])
  port.addIssue(1, opts.issueLabels ?? [])
  port.permissions.set('wendy', 'write')
  port.permissions.set('rita', 'read')
  port.permissions.set('adam', 'admin')
  const jobs = new MemoryJobs()
  const limits = new MemoryRateLimiter(() => Date.parse('2026-01-01T00:00:30Z'))
  const triaged: string[] = []
  const triage: TriageService = {
    async triage(req): Promise<Effect[]> {
      triaged.push(`${req.issue} ${req.requester}`)
      return [{ type: 'addLabels', repo: req.repo, issue: req.issue, labels: ['kind/bug'] }]
    },
  }
  return {
    port,
    jobs,
    limits,
    triaged,
    ctx: (event) =>
      createHandlerContext(
        {
          port,
          botLogin: 'uw-bot',
          houses: {
            list: houseList,
            forTask: (kind) => {
              const c = houseForTask(
                kind,
                Object.fromEntries(
                  houseList.map((h) => [
                    h.name,
                    { name: h.name, readOnly: false, role: h.role as never, agent: h.agent },
                  ]),
                ),
              )
              if (c.house === undefined) return { error: c.reason }
              return { house: c.house, reason: c.reason, ...(c.byRole ? { byRole: c.byRole } : {}) }
            },
            defaultHouse: opts.defaultHouse ?? 'ezra',
            sovereigns: opts.sovereigns ?? ['timmy', 'sage'],
            liveness: async (h) =>
              h === 'bezalel'
                ? {
                    alive: true,
                    workers: 2,
                    lastSeen: '2026-01-01T00:00:00Z',
                    degraded: [{ worker: 'host-1:42:bezalel', reason: 'queue wait 75 s > 60 s' }],
                  }
                : { alive: false, workers: 0, lastSeen: undefined },
          },
          tools: TOOLS,
          jobs: opts.jobsView ?? jobs,
          triage,
          limits,
          config: opts.config ?? CONFIG,
          commands,
          now: () => new Date('2026-01-01T00:00:30Z'),
          ...(opts.intelligence ? { intelligence: opts.intelligence } : {}),
        },
        event,
      ),
  }
}
