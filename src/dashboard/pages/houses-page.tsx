import type { DashboardPage } from '../dashboard-env.js'
import { readHouseOverview, SUCCESS_WINDOW, type HouseOverview } from '../house-overview.js'
import { render } from '../layout.js'
import { formatDuration } from '../../intelligence/predict.js'
import { formatVelocity } from '../../intelligence/velocity.js'

const percent = (x: number) => `${Math.round(x * 100)}%`
const points = (x: number) => `${x > 0 ? '+' : x < 0 ? '−' : '±'}${Math.abs(Math.round(x * 100))} points`
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

function Workers(props: { w: HouseOverview['workers'] }) {
  const { w } = props
  if (!w.alive)
    return (
      <span class="state state-failure">
        no live worker{w.lastSeen && <span class="muted"> (last seen {w.lastSeen})</span>}
      </span>
    )
  return (
    <>
      <span class="state state-success">{plural(w.workers, 'worker')} alive</span>
      {w.degraded && w.degraded.length > 0 && (
        <span>; degraded to SIMPLE: {w.degraded.map((d) => `${d.worker}: ${d.reason}`).join('; ')}</span>
      )}
    </>
  )
}

function Success(props: { h: HouseOverview }) {
  const { success: s, velocity: v } = props.h
  return (
    <>
      {s.rate === undefined
        ? 'no finished jobs yet'
        : `${percent(s.rate)} of the last ${plural(s.judged, 'finished job')}`}
      <br />
      <span class="muted">
        learning velocity:{' '}
        {v
          ? `${points(v.changePerWeek)} per week (7-day success ${percent(v.previousRate)} → ${percent(v.rate)})`
          : 'not yet (it needs two weeks of recorded runs)'}
      </span>
    </>
  )
}

function Predictions(props: { h: HouseOverview }) {
  const { predictions, house } = props.h
  const name = house.info.name
  if (predictions.length === 0)
    return <p class="muted">No runs learned yet (houses in INTELLIGENT mode learn from every run).</p>
  return (
    <table>
      <caption>Predictions per tool or task of {name}</caption>
      <thead>
        <tr>
          <th scope="col">Tool or task</th>
          <th scope="col">Success probability</th>
          <th scope="col">90% interval</th>
          <th scope="col">Usual time</th>
          <th scope="col">p90 time</th>
          <th scope="col">Runs</th>
          <th scope="col">Learning velocity</th>
        </tr>
      </thead>
      <tbody>
        {predictions.map(({ tool, prediction: p, belowFloor, velocity }) => (
          <tr>
            <td>
              <code>{tool}</code>
            </td>
            <td>
              {percent(p.successProbability)}
              {belowFloor && <strong class="state state-failure"> below the floor</strong>}
              {!p.enough && <span class="muted"> (not enough history)</span>}
            </td>
            <td>
              {percent(p.interval[0])}–{percent(p.interval[1])}
            </td>
            <td>{p.medianMs === undefined ? '–' : formatDuration(p.medianMs)}</td>
            <td>{p.p90Ms === undefined ? '–' : formatDuration(p.p90Ms)}</td>
            <td>{p.samples}</td>
            <td>{formatVelocity(velocity)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function House(props: { h: HouseOverview }) {
  const { h } = props
  const { info } = h.house
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
          workspace {info.workspace ?? 'static'}, {h.house.concurrency} at a time per worker
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
          <Success h={h} />
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
      <Predictions h={h} />
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
            are not counted). Predictions and learning velocity (the change of the 7-day success rate in a
            week) come from the runs houses in INTELLIGENT mode learned from (docs/INTELLIGENCE.md).
          </p>
          {houses.length === 0 ? <p>No houses are configured.</p> : houses.map((h) => <House h={h} />)}
        </>,
      )
    })
  },
}
