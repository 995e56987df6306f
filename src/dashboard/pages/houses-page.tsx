import type { DashboardPage } from '../dashboard-env.js'
import { readHouseOverview, SUCCESS_WINDOW, type HouseOverview } from '../house-overview.js'
import { render } from '../layout.js'

const percent = (x: number) => `${Math.round(x * 100)}%`
const points = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(Math.round(x * 100))} points`
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function Workers(props: { w: HouseOverview['workers'] }) {
  const { w } = props
  if (w.alive) return <span class="state state-success">{plural(w.count, 'worker')} alive</span>
  return (
    <span class="state state-failure">
      no live worker{w.lastSeen && <span class="muted"> (last seen {w.lastSeen})</span>}
    </span>
  )
}

function Success(props: { s: HouseOverview['success'] }) {
  const { s } = props
  if (s.rate === undefined) return <>no finished jobs yet</>
  return (
    <>
      {percent(s.rate)} of the last {plural(s.judged, 'finished job')}
      {s.velocity !== undefined && (
        <span class="muted"> · learning velocity {points(s.velocity)} (newer half vs older half)</span>
      )}
    </>
  )
}

function Predictions(props: { house: HouseOverview }) {
  const { predictions, unpredicted } = props.house
  const name = props.house.info.name
  if (predictions.length === 0)
    return <p class="muted">No outcomes learned yet (INTELLIGENT mode records each run's outcome).</p>
  return (
    <table>
      <caption>Predictions per tool or task of {name}</caption>
      <thead>
        <tr>
          <th scope="col">Tool or task</th>
          <th scope="col">Success probability</th>
          <th scope="col">90% interval</th>
          <th scope="col">Expected duration</th>
          <th scope="col">p95 duration</th>
          <th scope="col">Outcomes</th>
        </tr>
      </thead>
      <tbody>
        {predictions.map(({ tool, prediction: p }) => (
          <tr>
            <td>
              <code>{tool}</code>
            </td>
            <td>{percent(p.successProbability)}</td>
            <td>
              {percent(p.interval[0])}–{percent(p.interval[1])}
            </td>
            <td>{p.expectedDurationMs === undefined ? '–' : `${Math.round(p.expectedDurationMs)} ms`}</td>
            <td>{p.p95DurationMs === undefined ? '–' : `${Math.round(p.p95DurationMs)} ms`}</td>
            <td>{p.samples}</td>
          </tr>
        ))}
      </tbody>
      {unpredicted > 0 && (
        <tfoot>
          <tr>
            <td colspan={6} class="muted">
              {plural(unpredicted, 'other tool or task')} without outcomes yet
            </td>
          </tr>
        </tfoot>
      )}
    </table>
  )
}

function House(props: { h: HouseOverview }) {
  const { h } = props
  const { info } = h
  const id = `house-${info.name}`
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{info.name}</h2>
      <dl class="record">
        <dt>Role</dt>
        <dd>
          {info.description}
          {info.role && <span class="muted"> ({info.role})</span>}
        </dd>
        <dt>Policy</dt>
        <dd>
          mode {info.defaultMode}, approval {info.approval}, {plural(info.allowedTools.length, 'tool')},{' '}
          workspace {info.workspace ?? 'static'}, {h.concurrency} at a time
          {info.sovereigns.length > 0 && <>, sovereigns {info.sovereigns.join(', ')}</>}
        </dd>
        <dt>Agent</dt>
        <dd>
          {info.agent ? (
            <>
              <code>{info.agent.backend}</code>
              {info.agent.model && (
                <>
                  {' '}
                  <code>{info.agent.model}</code>
                </>
              )}
            </>
          ) : (
            'none (tools only)'
          )}
        </dd>
        <dt>Workers</dt>
        <dd>
          <Workers w={h.workers} />
        </dd>
        <dt>Queue</dt>
        <dd>
          {h.queue
            ? `${h.queue.waiting} waiting, ${h.queue.active} active, ${h.queue.delayed} delayed, ${h.queue.failed} failed`
            : 'not read'}
        </dd>
        <dt>Success</dt>
        <dd>
          <Success s={h.success} />
        </dd>
        <dt>Budget today</dt>
        <dd>
          {h.budget
            ? `${h.budget.used.toLocaleString('en')} of ${h.budget.daily.toLocaleString('en')} tokens (${percent(h.budget.used / h.budget.daily)})`
            : 'no agent'}
        </dd>
        <dt>Circuits</dt>
        <dd>
          {h.circuits.open.length === 0 ? (
            `all ${h.circuits.closed} closed`
          ) : (
            <>
              {h.circuits.open.map((c, i) => (
                <>
                  {i > 0 && ', '}
                  <code>{c.tool}</code> <span class="state state-failure">{c.state}</span>
                </>
              ))}
              ; {h.circuits.closed} closed
            </>
          )}
        </dd>
      </dl>
      <Predictions house={h} />
    </section>
  )
}

/** `/houses`: each house's policy, agent, workers, queue, success, predictions, budget and circuits. */
export const housesPage: DashboardPage = {
  nav: { label: 'Houses', path: '/houses' },
  register(app, deps) {
    app.get('/houses', async (c) => {
      if (!deps.fleet)
        return render(
          c,
          { title: 'Houses' },
          <p>This process was started without the houses' configuration.</p>,
        )
      const houses = await readHouseOverview(deps.redis, deps.prefix, deps.fleet)
      return render(
        c,
        { title: 'Houses' },
        <>
          <p class="muted">
            Success counts the last {SUCCESS_WINDOW} finished jobs of each house (denied and cancelled jobs
            are not counted). Predictions come from INTELLIGENT mode's recorded outcomes.
          </p>
          {houses.length === 0 ? <p>No houses are configured.</p> : houses.map((h) => <House h={h} />)}
        </>,
      )
    })
  },
}
