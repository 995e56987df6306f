import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { samples, valueOf, type Sample } from '../helpers/prom-text.js'
import { ackState, LoopWorld, SECRET, until } from './loop-world.js'

const COMMENTS_ROUTE = 'POST /repos/{owner}/{repo}/issues/{index}/comments'

describe('/metrics of a running loop', () => {
  // Workers for two of the four configured houses run here; allegro and bezalel have none.
  const world = new LoopWorld()
  let issue: number
  const jobIds: string[] = []
  beforeAll(async () => {
    await world.start({ ingress: true, router: true, reporter: true, workers: ['timmy', 'ezra'] })
    issue = await world.openIssue()
    await world.settle()
  })
  afterAll(() => world.stop())

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(`${world.services.httpUrl}/metrics`)
    expect(res.status).toBe(200)
    return samples(await res.text())
  }

  /** Posts a command as the writer and waits for its ack to reach one of `states`. */
  async function run(body: string, states: string[]): Promise<string> {
    const c = await world.comment('writer', issue, body)
    const ack = await until(`ack for "${body}"`, () =>
      world
        .botComments(issue)
        .filter((b) => b.id > c.id)
        .find((b) => states.includes(ackState(b.body)?.state ?? '')),
    )
    const jobId = ackState(ack.body)!.jobId
    jobIds.push(jobId)
    return jobId
  }

  it('shows live workers per configured house, 0 for a house with none', async () => {
    const alive = await until('both workers beating', async () => {
      const all = await scrape()
      return valueOf(all, 'uw_house_workers_alive', { house: 'ezra' }) === 1 ? all : undefined
    })
    const byHouse = Object.fromEntries(
      alive.filter((s) => s.name === 'uw_house_workers_alive').map((s) => [s.labels.house, s.value]),
    )
    expect(byHouse).toEqual({ timmy: 1, ezra: 1, bezalel: 0, allegro: 0 })
    expect(valueOf(alive, 'uw_redis_up')).toBe(1)
  })

  it('counts finished jobs by house, tool and state, with run and wait durations', async () => {
    await run('/run git_status @ezra', ['success'])
    await run('/run git_status @ezra', ['success'])
    await run('/run file_read path=no-such-file.txt @ezra', ['failure'])
    const all = await scrape()
    const ezra = (tool: string) => ({ house: 'ezra', tool })
    expect(valueOf(all, 'uw_jobs_finished_total', { ...ezra('git_status'), state: 'success' })).toBe(2)
    expect(valueOf(all, 'uw_jobs_finished_total', { ...ezra('file_read'), state: 'failure' })).toBe(1)
    expect(valueOf(all, 'uw_job_run_duration_seconds_count', ezra('git_status'))).toBe(2)
    expect(valueOf(all, 'uw_job_run_duration_seconds_sum', ezra('git_status'))).toBeGreaterThan(0)
    expect(valueOf(all, 'uw_job_queue_wait_seconds_count', ezra('git_status'))).toBe(2)
    expect(valueOf(all, 'uw_job_queue_wait_seconds_count', ezra('file_read'))).toBe(1)
    // The ack comments and their edits went through the metered Gitea port.
    expect(
      valueOf(all, 'uw_gitea_requests_total', { route: COMMENTS_ROUTE, code: '2xx' }),
    ).toBeGreaterThanOrEqual(3)
    // Every circuit the house may use is there, closed.
    expect(valueOf(all, 'uw_circuit_state', { ...ezra('git_status'), state: 'closed' })).toBe(1)
    expect(valueOf(all, 'uw_circuit_state', { ...ezra('git_status'), state: 'open' })).toBe(0)
  })

  it('shows queue depths and the age of the oldest waiting job, per queue', async () => {
    // bezalel has no worker here: its job waits.
    await run('/run git_status @bezalel', ['queued'])
    const all = await until('the queued job in the depths', async () => {
      const s = await scrape()
      return valueOf(s, 'uw_queue_jobs', { queue: 'house-bezalel', state: 'waiting' }) === 1 ? s : undefined
    })
    expect(valueOf(all, 'uw_queue_oldest_waiting_seconds', { queue: 'house-bezalel' })).toBeGreaterThan(0)
    expect(valueOf(all, 'uw_queue_oldest_waiting_seconds', { queue: 'house-ezra' })).toBe(0)
    const queues = new Set(all.filter((s) => s.name === 'uw_queue_jobs').map((s) => s.labels.queue))
    expect(queues).toEqual(
      new Set(['events', 'reports', 'house-timmy', 'house-ezra', 'house-bezalel', 'house-allegro']),
    )
    for (const state of ['waiting', 'active', 'delayed', 'failed'])
      expect(valueOf(all, 'uw_queue_jobs', { queue: 'house-ezra', state })).toBe(0)
  })

  it('no label value is a job id, a person, a repository, a URL or a number (bounded cardinality)', async () => {
    const text = await (await fetch(`${world.services.httpUrl}/metrics`)).text()
    for (const secret of [SECRET, world.tokens.bot, world.tokens.writer]) expect(text).not.toContain(secret)
    const all = samples(text).filter((s) => s.name.startsWith('uw_'))
    expect(jobIds.length).toBeGreaterThanOrEqual(4)
    const forbidden = [...jobIds, 'wren', 'olive', 'demo', world.gitea.url, world.prefix]
    // Histogram bounds (le) and HTTP statuses are numbers by design; nothing else may be one.
    const numeric = new Set(['le', 'code', 'status'])
    const bad = all.flatMap((s) =>
      Object.entries(s.labels)
        .filter(([k, v]) => forbidden.some((f) => v.includes(f)) || (!numeric.has(k) && /\d{2,}/.test(v)))
        .map(([k, v]) => `${s.name}{${k}="${v}"}`),
    )
    expect(bad).toEqual([])
    const labelNames = new Set(all.flatMap((s) => Object.keys(s.labels)))
    const bounded = [
      'code',
      'event',
      'kind',
      'house',
      'le',
      'method',
      'outcome',
      'queue',
      'result',
      'route',
      'signal',
      'state',
    ]
    expect([...labelNames].filter((l) => ![...bounded, 'status', 'task', 'tool'].includes(l))).toEqual([])
  })
})
