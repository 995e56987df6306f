import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningLoop } from '../../src/daemon/start-loop.js'
import type { RepoRef } from '../../src/gitea/port.js'
import { freePort } from '../../src/queue/redis-server.js'
import { LoopWorld, until } from './loop-world.js'

const TOKEN = 'e2e-alerts-token-0123456789abcdef'
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager'
const RULES = join(import.meta.dirname, '../../deploy/prometheus/alerts.yml')
/** The house left without a worker. */
const HOUSE = 'ezra'

/** A real program in its own process group, its output kept for a failure's message. */
class Program {
  output = ''
  private readonly child: ChildProcess

  constructor(
    readonly name: string,
    bin: string,
    args: string[],
  ) {
    this.child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()))
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()))
  }

  async ready(url: string): Promise<void> {
    await until(
      `${this.name} ready`,
      async () => {
        if (this.child.exitCode !== null) throw new Error(`${this.name} exited:\n${this.output}`)
        return (
          (await fetch(url)
            .then((r) => r.ok)
            .catch(() => false)) || undefined
        )
      },
      20_000,
    )
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = once(this.child, 'exit')
    process.kill(-this.child.pid!, 'SIGTERM')
    const timer = setTimeout(() => process.kill(-this.child.pid!, 'SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}

/**
 * issue 15 §2 end to end: Prometheus scrapes the bot's /metrics and evaluates the shipped rules,
 * Alertmanager routes UwHouseNoLiveWorker to the bot's receiver, the bridge opens an issue in the
 * Gitea double; a worker for the house starts, the alert resolves and the issue closes.
 */
describe('alerts into Gitea, with real Prometheus and Alertmanager', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uw-alerts-e2e-'))
  const alertsRepo: RepoRef = { owner: 'olive', name: 'alerts' }
  let world: LoopWorld
  let prometheus: Program
  let alertmanager: Program
  let takeover: RunningLoop | undefined

  beforeAll(async () => {
    process.env.UW_ALERTS_TOKEN = TOKEN
    world = new LoopWorld({
      fileConfig: (c) => ({ ...c, alerts: { repo: 'olive/alerts', tokenEnv: 'UW_ALERTS_TOKEN' } }),
    })
    // Every house has a worker but HOUSE.
    await world.start({
      ingress: true,
      router: false,
      reporter: false,
      workers: ['timmy', 'bezalel', 'allegro'],
    })
    world.gitea.double.createRepo(alertsRepo)
    world.gitea.double.addCollaborator(alertsRepo, 'uni-wizard', 'write')

    const [promPort, amPort] = [await freePort(), await freePort()]
    const bot = new URL(world.services.httpUrl)
    // The shipped rules, with only their `for:` durations shortened.
    const rules = readFileSync(RULES, 'utf8')
    expect(rules).toMatch(/alert: UwHouseNoLiveWorker/)
    writeFileSync(join(dir, 'alerts.yml'), rules.replace(/^(\s+for:\s*)\S+/gm, '$11s'))
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['alerts.yml'],
        scrape_configs: [{ job_name: 'uni-wizard', static_configs: [{ targets: [bot.host] }] }],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
      }),
    )
    writeFileSync(join(dir, 'alerts-token'), TOKEN)
    writeFileSync(
      join(dir, 'alertmanager.yml'),
      stringify({
        route: {
          receiver: 'nowhere',
          group_by: ['alertname', 'house'],
          group_wait: '1s',
          group_interval: '1s',
          repeat_interval: '1h',
          // Only the alert under test goes to the bot: other shipped rules may fire in this world.
          routes: [{ receiver: 'uni-wizard', matchers: ['alertname="UwHouseNoLiveWorker"'] }],
        },
        receivers: [
          { name: 'nowhere' },
          {
            name: 'uni-wizard',
            webhook_configs: [
              {
                url: `${world.services.httpUrl}/alerts/alertmanager`,
                send_resolved: true,
                http_config: { authorization: { credentials_file: join(dir, 'alerts-token') } },
              },
            ],
          },
        ],
      }),
    )
    alertmanager = new Program('alertmanager', ALERTMANAGER, [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
      '--data.retention=1h',
      '--log.level=warn',
    ])
    prometheus = new Program('prometheus', 'prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prom-data')}`,
      '--storage.tsdb.retention.time=1h',
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ])
    await alertmanager.ready(`http://127.0.0.1:${amPort}/-/ready`)
    await prometheus.ready(`http://127.0.0.1:${promPort}/-/ready`)
  }, 60_000)

  afterAll(async () => {
    await prometheus?.stop()
    await alertmanager?.stop()
    await takeover?.stop()
    await world?.stop()
    delete process.env.UW_ALERTS_TOKEN
    rmSync(dir, { recursive: true, force: true })
  })

  // HOUSE's group only: under load another house's heartbeat may lapse for a moment and open its own.
  const alertIssues = async () =>
    (await world.api('writer').listIssues(alertsRepo, { state: 'all', type: 'issues' })).filter((i) =>
      i.title.endsWith(`(house=${HOUSE})`),
    )
  const diagnose = () => `\nprometheus:\n${prometheus.output}\nalertmanager:\n${alertmanager.output}`

  it('a house without a worker opens one issue; its worker starting closes it', async () => {
    const opened = await until('the alert issue', async () => (await alertIssues())[0], 30_000).catch(
      (err: Error) => {
        throw new Error(err.message + diagnose())
      },
    )
    expect(opened).toMatchObject({ state: 'open', title: `Alert: UwHouseNoLiveWorker (house=${HOUSE})` })
    // The rule's gitea_labels annotation, from the catalogue.
    expect(opened.labels.map((l) => l.name).sort()).toEqual(['priority/p0', 'type/ops'])
    expect(opened.body).toContain(`House ${HOUSE} has no live worker`)

    takeover = await world.startWorkers([HOUSE], 'e2e-alerts-worker')
    const closed = await until(
      'the alert issue closed',
      async () => {
        const [issue] = await alertIssues()
        return issue?.state === 'closed' ? issue : undefined
      },
      30_000,
    ).catch((err: Error) => {
      throw new Error(err.message + diagnose())
    })
    expect(closed.number).toBe(opened.number)
    expect(await alertIssues()).toHaveLength(1)
    const comments = await world.api('writer').listComments(alertsRepo, opened.number)
    expect(comments.map((c) => c.body)).toEqual([
      expect.stringContaining('Every alert of this group is resolved'),
    ])
  }, 90_000)
})
