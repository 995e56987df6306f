import { z } from 'zod'
import { JOB_STATES, cursorText, parseCursor, type JobFilter } from '../../jobs/job-index.js'
import { listJobs } from '../../jobs/job-listing.js'
import type { JobRecord } from '../../jobs/job-store.js'
import type { JobState } from '../../jobs/jobs.js'
import type { DashboardPage } from '../dashboard-env.js'
import { render } from '../layout.js'

/** Jobs per page. */
export const JOBS_PAGE_SIZE = 50

const blankToUndefined = (s: unknown) => (typeof s === 'string' && s.trim() === '' ? undefined : s)

const JobsQuery = z
  .object({
    house: z.preprocess(blankToUndefined, z.string().max(100).optional()),
    state: z.preprocess(
      blankToUndefined,
      z
        .enum(JOB_STATES as [JobState, ...JobState[]], { message: `one of ${JOB_STATES.join(', ')}` })
        .optional(),
    ),
    repo: z.preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^[^/\s]+\/[^/\s]+$/, 'owner/name')
        .optional(),
    ),
    requester: z.preprocess(blankToUndefined, z.string().max(100).optional()),
    cursor: z.preprocess(blankToUndefined, z.string().max(400).optional()),
  })
  .strict()

/**
 * The link to a job's ack comment (the comment the bot edits as the job runs), from the command's
 * comment URL; the command's comment when the ack was never posted.
 */
export function ackCommentUrl(r: JobRecord): string {
  // Only web links: a stored URL of another scheme (javascript:) never becomes a link.
  if (!/^https?:\/\//i.test(r.origin.commentUrl)) return '#'
  if (r.ackCommentId === undefined) return r.origin.commentUrl
  const issueUrl = r.origin.commentUrl.replace(/#.*$/, '')
  return `${issueUrl}#issuecomment-${r.ackCommentId}`
}

export function StateBadge(props: { state: string }) {
  return <span class={`state state-${props.state}`}>{props.state.replace('_', ' ')}</span>
}

function Filters(props: { base: string; houses: readonly string[]; filter: JobFilter }) {
  const f = props.filter
  return (
    <form class="filters" method="get" action={`${props.base}/jobs`} role="search" aria-label="Filter jobs">
      <label>
        House
        <select name="house">
          <option value="">any</option>
          {props.houses.map((h) => (
            <option value={h} selected={f.house === h}>
              {h}
            </option>
          ))}
        </select>
      </label>
      <label>
        State
        <select name="state">
          <option value="">any</option>
          {JOB_STATES.map((s) => (
            <option value={s} selected={f.state === s}>
              {s.replace('_', ' ')}
            </option>
          ))}
        </select>
      </label>
      <label>
        Repository
        <input name="repo" value={f.repo ?? ''} placeholder="owner/name" />
      </label>
      <label>
        Requester
        <input name="requester" value={f.requester ?? ''} placeholder="login" />
      </label>
      <button type="submit">Filter</button>
    </form>
  )
}

function JobsTable(props: { base: string; jobs: readonly JobRecord[] }) {
  if (props.jobs.length === 0) return <p>No jobs match.</p>
  return (
    <table>
      <caption class="muted">Newest first</caption>
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">State</th>
          <th scope="col">House</th>
          <th scope="col">Tool or task</th>
          <th scope="col">Repository</th>
          <th scope="col">Requester</th>
          <th scope="col">Created</th>
          <th scope="col">Comment</th>
        </tr>
      </thead>
      <tbody>
        {props.jobs.map((j) => {
          const repo = `${j.origin.repo.owner}/${j.origin.repo.name}`
          return (
            <tr>
              <td>
                <a href={`${props.base}/jobs/${encodeURIComponent(j.id)}`}>
                  <code>{j.id}</code>
                </a>
              </td>
              <td>
                <StateBadge state={j.state} />
              </td>
              <td>{j.house}</td>
              <td>
                <code>{j.tool}</code>
              </td>
              <td>
                {repo}#{j.origin.issue}
              </td>
              <td>{(j.firstRequester ?? j.requester).login}</td>
              <td>
                <time datetime={j.createdAt}>{j.createdAt.replace('T', ' ').slice(0, 19)}</time>
              </td>
              <td>
                <a href={ackCommentUrl(j)} aria-label={`comment of job ${j.id} in Gitea`}>
                  in Gitea
                </a>
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

/** `/jobs`: every job the user may see, newest first, filtered by house, state, repository and requester, paged by cursor. */
export const jobsPage: DashboardPage = {
  nav: { label: 'Jobs', path: '/jobs' },
  register(app, deps) {
    const base = deps.config.basePath
    app.get('/jobs', async (c) => {
      const q = JobsQuery.safeParse(c.req.query())
      if (!q.success) {
        const issue = q.error.issues[0]
        const where = issue?.path.length ? String(issue.path[0]) : 'query'
        return render(
          c,
          { title: 'Jobs', status: 400 },
          <p class="notice error" role="alert">
            Bad filter {where}: {issue?.message ?? 'invalid'}. <a href={`${base}/jobs`}>Show all jobs</a>
          </p>,
        )
      }
      const { cursor: cursorParam, ...filter } = q.data
      const cursor = parseCursor(cursorParam)
      const user = c.get('user')!
      // Only the jobs of repositories this user can read (admins see all; docs/DASHBOARD.md).
      const keep = deps.visibility.seesAll(user)
        ? undefined
        : (r: JobRecord) => deps.visibility.canRead(user, r.origin.repo)
      const page = await listJobs(deps.redis, deps.prefix, filter, { cursor, limit: JOBS_PAGE_SIZE, keep })
      const nextQuery = new URLSearchParams(
        Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined),
      )
      if (page.next) nextQuery.set('cursor', cursorText(page.next))
      return render(
        c,
        { title: 'Jobs' },
        <>
          <Filters base={base} houses={deps.houses} filter={filter} />
          <JobsTable base={base} jobs={page.jobs} />
          <nav class="pager" aria-label="Pages">
            {cursor && (
              <a href={`${base}/jobs?${new URLSearchParams([...nextQuery].filter(([k]) => k !== 'cursor'))}`}>
                Newest
              </a>
            )}
            {page.next && (
              <a href={`${base}/jobs?${nextQuery}`} rel="next">
                Older jobs
              </a>
            )}
          </nav>
        </>,
      )
    })
  },
}
