import { JobIdArg } from '../../commands-core/command-input.js'
import { checkoutTargetText, FINAL_STATES } from '../../jobs/jobs.js'
import type { JobRecord } from '../../jobs/job-store.js'
import { StoredResult } from '../../jobs/stored-result.js'
import { AgentProgress, type AgentStep } from '../../report/agent-steps.js'
import { verifyBareEnvelope, type Verdict } from '../../report/verify-verdict.js'
import type { StoredTelemetryEvent } from '../../telemetry/telemetry-event.js'
import type { Context } from 'hono'
import type { DashboardDeps, DashboardEnv, DashboardPage } from '../dashboard-env.js'
import { actOnJob, mayAct, type ActionName } from '../job-actions.js'
import { eventText, jobEventStream, readJobTimeline } from '../job-events.js'
import { CsrfField, render } from '../layout.js'
import { randomToken } from '../sessions.js'
import { ackCommentUrl, StateBadge } from './jobs-page.js'

/** The most characters of a run's output a page shows (the rest is in the result comment's digest). */
export const OUTPUT_SHOWN = 20_000

const RETRY_KEY = /^[A-Za-z0-9_-]{16,64}$/

/** What the page says after a cancel or retry was asked (fixed texts: a link cannot make it say anything else). */
const DONE: Record<ActionName, string> = {
  cancel: 'Cancel asked: a queued job is removed, a running one stops and then shows cancelled.',
  retry: 'Retry asked: a new run is queued (or waits for approval, as the first did).',
}

function readResult(raw: string | undefined): StoredResult | undefined {
  if (!raw) return undefined
  try {
    const r = StoredResult.safeParse(JSON.parse(raw))
    return r.success ? r.data : undefined
  } catch {
    return undefined
  }
}

function readProgress(raw: string | undefined): AgentProgress | undefined {
  if (!raw) return undefined
  try {
    const r = AgentProgress.safeParse(JSON.parse(raw))
    return r.success ? r.data : undefined
  } catch {
    return undefined
  }
}

/**
 * What the server finds of a run's signed statement: the envelope's signature against the
 * trusted house keys (as `uni-wizard verify` checks an envelope), then that the statement is
 * about this job (house, tool, job id).
 */
export function verifyRun(
  deps: Pick<DashboardDeps, 'trustedKeys'>,
  job: JobRecord,
  result: StoredResult,
): Verdict {
  if (!result.envelope)
    return {
      valid: false,
      reason: 'this run has no signed statement (dry run, or ended before the tool ran)',
    }
  const v = verifyBareEnvelope(result.envelope, deps.trustedKeys())
  if (!v.valid) return v
  const p =
    (v.statement as { predicate?: { house?: unknown; tool?: unknown; jobId?: unknown } }).predicate ?? {}
  const mismatch = [
    p.house !== job.house && `house ${String(p.house)}`,
    p.tool !== job.tool && `tool ${String(p.tool)}`,
    p.jobId !== undefined && p.jobId !== job.id && `job ${String(p.jobId)}`,
  ].filter(Boolean)
  if (mismatch.length > 0)
    return {
      valid: false,
      reason: `the signature holds, but the statement is about another run (${mismatch.join(', ')})`,
    }
  return {
    ...v,
    checked: 'the envelope signature, and that its statement names this job’s house, tool and id',
  }
}

function Field(props: { name: string; children?: unknown }) {
  return (
    <>
      <dt>{props.name}</dt>
      <dd>{props.children as never}</dd>
    </>
  )
}

function Record(props: { job: JobRecord }) {
  const j = props.job
  const repo = `${j.origin.repo.owner}/${j.origin.repo.name}`
  return (
    <dl class="record">
      <Field name="State">
        <StateBadge state={j.state} />
        {j.reason && <span class="muted"> — {j.reason}</span>}
      </Field>
      <Field name="House">{j.house}</Field>
      <Field name="Tool or task">
        <code>{j.tool}</code> ({j.mode.toLowerCase()}
        {j.dryRun ? ', dry run' : ''})
      </Field>
      <Field name="Arguments">
        <code>{JSON.stringify(j.args)}</code>
      </Field>
      <Field name="Command">
        <code>{j.origin.command}</code>
      </Field>
      <Field name="Where">
        {repo}#{j.origin.issue} · <a href={ackCommentUrl(j)}>comment in Gitea</a>
      </Field>
      <Field name="Requested by">
        {j.requester.login}
        {j.firstRequester && ` (first run: ${j.firstRequester.login})`}
      </Field>
      <Field name="Run">{j.run}</Field>
      {j.checkout && (
        <Field name="Checkout">
          {checkoutTargetText(j.checkout.target)}
          {j.commit && (
            <>
              {' '}
              at <code>{j.commit.slice(0, 12)}</code>
            </>
          )}
        </Field>
      )}
      {j.approvalRequired && (
        <Field name="Approval">
          {j.approvedBy
            ? `approved by ${j.approvedBy.by}`
            : `needed from ${j.approvers.join(', ') || 'a sovereign'}`}
        </Field>
      )}
      {j.pendingApproval && <Field name="Waiting for">{j.pendingApproval.what}</Field>}
      {j.cancelRequestedBy && <Field name="Cancel asked by">{j.cancelRequestedBy}</Field>}
      <Field name="Created">
        <time datetime={j.createdAt}>{j.createdAt}</time>
      </Field>
      {j.startedAt && (
        <Field name="Started">
          <time datetime={j.startedAt}>{j.startedAt}</time>
        </Field>
      )}
      {j.finishedAt && (
        <Field name="Finished">
          <time datetime={j.finishedAt}>{j.finishedAt}</time>
        </Field>
      )}
    </dl>
  )
}

function Timeline(props: { events: StoredTelemetryEvent[]; live: string | undefined }) {
  return (
    <section aria-labelledby="timeline">
      <h2 id="timeline">Timeline</h2>
      {props.live && <p class="muted">Running: new events appear as they happen.</p>}
      <ol class="timeline" data-events={props.live} aria-live={props.live ? 'polite' : undefined}>
        {props.events.map((e) => (
          <li>
            <time datetime={e.at}>{e.at.replace('T', ' ').slice(0, 19)}</time> {eventText(e)}
          </li>
        ))}
      </ol>
      {props.events.length === 0 && !props.live && <p>No events retained for this job.</p>}
    </section>
  )
}

function Steps(props: { steps: readonly AgentStep[]; earlier: number; message?: string }) {
  return (
    <section aria-labelledby="steps">
      <h2 id="steps">Agent steps</h2>
      {props.earlier > 0 && <p class="muted">{props.earlier} earlier steps not shown.</p>}
      <table>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Status</th>
            <th scope="col">Arguments</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {props.steps.map((s) => (
            <tr>
              <td>
                <code>{s.tool}</code>
              </td>
              <td>
                <StateBadge state={s.status} />
              </td>
              <td>
                <code>{s.args ?? ''}</code>
              </td>
              <td>{s.durationMs !== undefined ? `${s.durationMs} ms` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.message && (
        <p>
          Last message: <q>{props.message}</q>
        </p>
      )}
    </section>
  )
}

function Output(props: { result: StoredResult }) {
  const r = props.result
  const shown = r.output.length > OUTPUT_SHOWN ? r.output.slice(0, OUTPUT_SHOWN) : r.output
  const cut = r.output.length - shown.length
  return (
    <section aria-labelledby="output">
      <h2 id="output">Output</h2>
      <p>
        <StateBadge state={r.status} /> in {r.durationMs} ms, {r.attempts} attempt
        {r.attempts === 1 ? '' : 's'}, on {r.host}
      </p>
      {r.error && (
        <p class="notice error">
          {r.error.reason} <span class="muted">({r.error.rule})</span>
          {r.error.fix && <> — {r.error.fix}</>}
        </p>
      )}
      <pre role="region" tabindex={0} aria-label="Output">
        {shown}
      </pre>
      {(cut > 0 || r.truncatedBytes > 0) && (
        <p class="muted">
          {cut > 0 && `${cut} more characters not shown here. `}
          {r.truncatedBytes > 0 && `${r.truncatedBytes} bytes were cut when the result was stored.`}
        </p>
      )}
      {r.notes.length > 0 && (
        <ul>
          {r.notes.map((n) => (
            <li>{n}</li>
          ))}
        </ul>
      )}
    </section>
  )
}

function Proof(props: { result: StoredResult }) {
  const rows = props.result.statement?.predicate.proof ?? []
  const agentProof = props.result.agent?.proof ?? []
  if (rows.length === 0 && agentProof.length === 0) return null
  return (
    <section aria-labelledby="proof">
      <h2 id="proof">Proof</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Command</th>
            <th scope="col">Exit</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {rows.length > 0
            ? rows.map((p) => (
                <tr>
                  <td>
                    <code>{p.detail.name}</code>
                  </td>
                  <td>{p.detail.timedOut ? 'timed out' : String(p.detail.exitCode)}</td>
                  <td>{p.detail.durationMs} ms</td>
                </tr>
              ))
            : agentProof.map((p) => (
                <tr>
                  <td>
                    <code>{p.name}</code>
                  </td>
                  <td>{p.timedOut ? 'timed out' : String(p.exitCode)}</td>
                  <td>{p.durationMs} ms</td>
                </tr>
              ))}
        </tbody>
      </table>
      {props.result.agent?.proofOutput && (
        <pre role="region" tabindex={0} aria-label="Proof output">
          {props.result.agent.proofOutput.slice(-OUTPUT_SHOWN)}
        </pre>
      )}
    </section>
  )
}

function Provenance(props: { result: StoredResult; verdict: Verdict }) {
  const v = props.verdict
  return (
    <section aria-labelledby="provenance">
      <h2 id="provenance">Signed statement</h2>
      {v.valid ? (
        <p class="notice" role="status">
          <strong>Verified</strong>: signed by {v.signer} (key <code>{v.keyid}</code>); checked {v.checked}.
        </p>
      ) : (
        <p class="notice error" role="status">
          <strong>Not verified</strong>: {v.reason}.
        </p>
      )}
      {props.result.statement && (
        <pre role="region" tabindex={0} aria-label="In-toto statement">
          {JSON.stringify(props.result.statement, null, 2)}
        </pre>
      )}
    </section>
  )
}

function Actions(props: { base: string; job: JobRecord; csrf: string | undefined; can: Set<ActionName> }) {
  const { job } = props
  const cancellable = !FINAL_STATES.has(job.state)
  const url = `${props.base}/jobs/${encodeURIComponent(job.id)}`
  return (
    <div class="actions">
      {cancellable && props.can.has('cancel') && (
        <form method="post" action={`${url}/cancel`}>
          <CsrfField token={props.csrf} />
          <button type="submit" class="danger">
            Cancel job
          </button>
        </form>
      )}
      {!cancellable && props.can.has('retry') && (
        <form method="post" action={`${url}/retry`}>
          <CsrfField token={props.csrf} />
          <input type="hidden" name="key" value={randomToken(18)} />
          <button type="submit">Retry job</button>
        </form>
      )}
    </div>
  )
}

/** `/jobs/:id`: a job's record, timeline (live while it runs), steps, output, proof and verified statement; cancel/retry. */
export const jobPage: DashboardPage = {
  register(app, deps) {
    const base = deps.config.basePath
    const notFound = (c: Context<DashboardEnv>, id: string) =>
      render(c, { title: 'No such job', status: 404 }, <p>There is no job {id} (it may have expired).</p>)
    // A job of a repository the user cannot read is "no such job", like an unknown id.
    const visibleJob = async (c: Context<DashboardEnv>, id: string) => {
      const job = JobIdArg.safeParse(id).success ? await deps.store.getRecord(id) : undefined
      return job && (await deps.visibility.canRead(c.get('user')!, job.origin.repo)) ? job : undefined
    }

    app.get('/jobs/:id', async (c) => {
      const id = c.req.param('id')
      const job = await visibleJob(c, id)
      if (!job) return notFound(c, id)
      const [progress, stepsRaw, timeline] = await Promise.all([
        deps.store.progress(job.runId),
        deps.store.agentSteps(job.runId),
        readJobTimeline(deps.redis, deps.prefix, job),
      ])
      const result = readResult(progress.result)
      const live = readProgress(stepsRaw)
      const steps = result?.agent ?? live
      const user = c.get('user')!
      const running = !FINAL_STATES.has(job.state)
      // Only the button that applies is offered (cancel while it runs, retry once it ended).
      const action: ActionName = running ? 'cancel' : 'retry'
      const can = new Set<ActionName>((await mayAct(deps.actions, user, job, action)).allowed ? [action] : [])
      const done = c.req.query('done')
      const notice = done === 'cancel' || done === 'retry' ? DONE[done] : undefined
      return render(
        c,
        { title: `Job ${job.id}` },
        <>
          {notice && (
            <p class="notice" role="status">
              {notice}
            </p>
          )}
          <Record job={job} />
          <Actions base={base} job={job} csrf={c.get('session')?.csrf} can={can} />
          <Timeline
            events={timeline.events}
            live={
              running
                ? `${base}/jobs/${encodeURIComponent(job.id)}/events?since=${timeline.cursor}`
                : undefined
            }
          />
          {steps && steps.steps.length > 0 && (
            <Steps steps={steps.steps} earlier={steps.earlier} message={live?.message} />
          )}
          {result && <Output result={result} />}
          {result && <Proof result={result} />}
          {result && <Provenance result={result} verdict={verifyRun(deps, job, result)} />}
        </>,
      )
    })

    app.get('/jobs/:id/events', jobEventStream(deps, visibleJob))

    for (const action of ['cancel', 'retry'] as const)
      app.post(`/jobs/:id/${action}`, async (c) => {
        const id = c.req.param('id')
        const job = await visibleJob(c, id)
        if (!job) return notFound(c, id)
        const form = await c.req.parseBody()
        const key = typeof form.key === 'string' ? form.key : ''
        if (action === 'retry' && !RETRY_KEY.test(key))
          return render(
            c,
            { title: 'Retry refused', status: 400 },
            <p>The retry form is missing its key; reload the job page.</p>,
          )
        const user = c.get('user')!
        const outcome = await actOnJob(deps.actions, user, job, action, `dash-${key}`)
        if (!outcome.ok) {
          deps.log.info(
            { jobId: job.id, login: user.login, action, status: outcome.status },
            'dashboard: action refused',
          )
          return render(
            c,
            { title: `${action === 'cancel' ? 'Cancel' : 'Retry'} refused`, status: outcome.status },
            <p class="notice error" role="alert">
              {outcome.message} <a href={`${base}/jobs/${encodeURIComponent(job.id)}`}>Back to the job</a>
            </p>,
          )
        }
        deps.log.info({ jobId: job.id, login: user.login, action }, 'dashboard: job action')
        return c.redirect(`${base}/jobs/${encodeURIComponent(job.id)}?done=${action}`, 303)
      })
  },
}
