import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { parse } from 'yaml'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AlertBridge } from '../../src/alerts/alert-bridge.js'
import { AlertGroupStore } from '../../src/alerts/alert-group-store.js'
import { groupId } from '../../src/alerts/alert-group.js'
import type { AlertmanagerNotification } from '../../src/alerts/alertmanager-notification.js'
import { loadConfig, Secret } from '../../src/config/index.js'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import type { RepoRef } from '../../src/gitea/port.js'
import { createLogger } from '../../src/logger.js'
import { createRedis } from '../../src/queue/connection.js'
import { createEventsProducer } from '../../src/queue/events-producer.js'
import { createApp } from '../../src/server/create-app.js'
import { createIngressMetrics } from '../../src/server/ingress-metrics.js'
import { listen, type Listening } from '../../src/server/listen.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { SYNTHETIC_SECRET } from '../server/deliveries.js'
import { notification, type TestAlert } from './notifications.js'

const TOKEN = 'alerts-token-0123456789abcdef'
const LATER = '2030-01-01T12:00:00Z'

describe('POST /alerts/alertmanager', () => {
  const redisUrl = testRedisUrl()
  const redis = createRedis(redisUrl, 'producer')
  const inspector = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  let logText = ''
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logText += chunk.toString()
        done()
      },
    }),
  })
  let gitea: RunningGiteaDouble
  let botToken: string
  let http: Listening
  let off: Listening
  let repo: RepoRef
  let prefix: string
  let port: GiteaJsAdapter

  const app = (alerts: boolean) =>
    createApp({
      config: loadConfig({ WEBHOOK_SECRET: SYNTHETIC_SECRET }),
      log,
      events: createEventsProducer({
        connection: redis,
        prefix: '{uwtest-alerts-unused}',
        dedupeTtlSeconds: 60,
      }),
      redis,
      botLogin: 'gitea-bot',
      checkGitea: async () => undefined,
      metrics: createIngressMetrics(new Registry()),
      ...(alerts && {
        alerts: {
          token: new Secret(TOKEN),
          maxBodyBytes: 64 * 1024,
          // Resolved per request: each test has its own repository and prefix.
          bridge: {
            receive: (n: AlertmanagerNotification) =>
              new AlertBridge({
                port,
                store: new AlertGroupStore({ redis, prefix, waitMs: 5000 }),
                repo,
                botLogin: 'gitea-bot',
                labels: ['type/ops'],
                log,
              }).receive(n),
          },
        },
      }),
    })

  const post = (
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
    at = http,
  ) =>
    fetch(`${at.url}/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  const send = async (alerts: TestAlert[]) => {
    const res = await post(notification(alerts))
    const body = (await res.json()) as { steps: string[]; issue?: number; error?: string }
    expect(res.status, body.error).toBe(200)
    return body
  }
  const issues = () => port.listIssues(repo, { state: 'all', type: 'issues' })
  const comments = async () => {
    const [issue] = await issues()
    return issue ? port.listComments(repo, issue.number) : []
  }

  beforeAll(async () => {
    gitea = await startGiteaDouble()
    botToken = gitea.double.createUser({ login: 'gitea-bot' }).token
    gitea.double.createUser({ login: 'alice' })
    if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r))
    http = await listen(app(true), { host: '127.0.0.1', port: 0 })
    off = await listen(app(false), { host: '127.0.0.1', port: 0 })
  })
  beforeEach(() => {
    repo = gitea.double.createRepo({ owner: 'alice', name: `ops-${randomUUID().slice(0, 8)}` })
    gitea.double.addCollaborator(repo, 'gitea-bot', 'write')
    prefix = uniquePrefix()
    port = new GiteaJsAdapter({
      baseUrl: gitea.url,
      token: botToken,
      retry: { attempts: 1 },
      requestTimeoutMs: 2000,
    })
    gitea.double.faults.clear()
  })
  afterEach(async () => {
    expect(gitea.double.violations).toEqual([])
    await cleanupPrefix(prefix)
  })
  afterAll(async () => {
    await http.close()
    await off.close()
    await gitea.stop()
    redis.disconnect()
    inspector.disconnect()
    // The token is a secret: no log line carries it.
    expect(logText).not.toContain(TOKEN)
  })

  it('firing opens one issue for the group, labelled from the catalogue; a redelivery changes nothing', async () => {
    expect(await send([{ fp: 'a1', status: 'firing', labels: { house: 'ezra' } }])).toMatchObject({
      steps: ['open'],
      issue: expect.any(Number),
    })
    const [issue] = await issues()
    expect(issue).toMatchObject({ state: 'open', title: 'Alert: UwHouseNoLiveWorker' })
    expect(issue!.labels.map((l) => l.name)).toEqual(['type/ops'])
    expect(issue!.body).toContain('`house=ezra`')
    expect(await send([{ fp: 'a1', status: 'firing', labels: { house: 'ezra' } }])).toMatchObject({
      steps: [],
    })
    expect(await issues()).toHaveLength(1)
    expect(await comments()).toEqual([])
  })

  it('every shipped rule, as promtool renders it (alerts.test.yml), opens its issue with its labels, text and runbook', async () => {
    const file = join(import.meta.dirname, '../../deploy/prometheus/alerts.test.yml')
    const tests = (
      parse(readFileSync(file, 'utf8')) as {
        tests: {
          alert_rule_test: {
            alertname: string
            exp_alerts?: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[]
          }[]
        }[]
      }
    ).tests
    const firing = new Map(
      tests
        .flatMap((t) => t.alert_rule_test)
        .flatMap((c) => (c.exp_alerts ?? []).map((a) => [c.alertname, a] as const)),
    )
    expect([...firing.keys()]).toContain('UwWorkerDegraded')
    for (const [name, alert] of firing) {
      const labels = { alertname: name, ...alert.exp_labels }
      const n = notification([
        {
          fp: createHash('sha256').update(name).digest('hex').slice(0, 16),
          name,
          status: 'firing',
          labels: alert.exp_labels,
          annotations: alert.exp_annotations,
        },
      ])
      const res = await post({
        ...n,
        groupKey: `{}:{alertname="${name}"}`,
        groupLabels: labels,
        commonLabels: labels,
      })
      expect(res.status, name).toBe(200)
      const issue = (await issues()).find((i) => i.title.startsWith(`Alert: ${name}`))
      expect(issue, name).toBeDefined()
      const wanted = alert.exp_annotations.gitea_labels!.split(',').map((l) => l.trim())
      // The default type/ops unless the rule names another type (type/ is an exclusive scope).
      const type = wanted.some((l) => l.startsWith('type/')) ? [] : ['type/ops']
      expect(issue!.labels.map((l) => l.name).sort(), name).toEqual([...type, ...wanted].sort())
      expect(issue!.body, name).toContain(`**firing** \`${name}\``)
      if (alert.exp_annotations.runbook_url)
        expect(issue!.body, name).toContain(`runbook: \`${alert.exp_annotations.runbook_url}\``)
    }
    expect(await issues()).toHaveLength(firing.size)
  })

  it('two Alertmanagers delivering the same notification at once (HA) open one issue', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => post(notification([{ fp: 'a1', status: 'firing' }]))),
    )
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200])
    const steps = await Promise.all(results.map(async (r) => ((await r.json()) as { steps: string[] }).steps))
    expect(steps.flat()).toEqual(['open'])
    expect(await issues()).toHaveLength(1)
  })

  it('a change comments once, all resolved closes, firing again reopens with a comment; repeats do nothing', async () => {
    await send([{ fp: 'a1', status: 'firing' }])
    const change = [
      { fp: 'a1', status: 'firing' as const },
      { fp: 'b2', status: 'firing' as const, labels: { house: 'bezalel' } },
    ]
    expect((await send(change)).steps).toEqual(['comment'])
    expect((await send(change)).steps).toEqual([])
    expect((await comments()).map((c) => c.body)).toEqual([expect.stringContaining('`house=bezalel`')])

    const resolved = [
      { fp: 'a1', status: 'resolved' as const },
      { fp: 'b2', status: 'resolved' as const },
    ]
    expect((await send(resolved)).steps).toEqual(['comment', 'close'])
    expect((await send(resolved)).steps).toEqual([])
    // A firing copy of the same episode arriving late (the other Alertmanager) reopens nothing.
    expect((await send(change)).steps).toEqual([])
    expect((await issues())[0]!.state).toBe('closed')
    expect(await comments()).toHaveLength(2)
    expect((await comments())[1]!.body).toContain('closing')

    expect((await send([{ fp: 'a1', status: 'firing', startsAt: LATER }])).steps).toEqual([
      'reopen',
      'comment',
    ])
    expect((await issues())[0]!.state).toBe('open')
    expect(await issues()).toHaveLength(1)
    expect(await comments()).toHaveLength(3)
  })

  it("labels an alert's gitea_labels, notes unknown names, and adds labels a later alert asks for", async () => {
    await send([{ fp: 'a1', status: 'firing', annotations: { gitea_labels: 'priority/p1, no-such-label' } }])
    const [issue] = await issues()
    expect(issue!.labels.map((l) => l.name).sort()).toEqual(['priority/p1', 'type/ops'])
    expect(issue!.body).toMatch(/Ignored label names.*`no-such-label`/)
    const steps = await send([
      { fp: 'a1', status: 'firing', annotations: { gitea_labels: 'priority/p1, no-such-label' } },
      { fp: 'b2', status: 'firing', annotations: { gitea_labels: 'type/security' } },
    ])
    expect(steps.steps).toEqual(['comment', 'label'])
    expect((await issues())[0]!.labels.map((l) => l.name).sort()).toEqual(['priority/p1', 'type/security'])
  })

  it('renders alert text inert: no mentions, references, HTML, links or commands', async () => {
    const hostile = {
      summary: '@alice see #1 <img src=x onerror=alert(1)> [click](http://evil.test)',
      description: 'line one\n/run git_push @bezalel\n<script>alert(1)</script>',
      runbook_url: 'javascript:alert(1)',
    }
    await send([
      { fp: 'a1', status: 'firing', labels: { house: '@alice `x` </details>' }, annotations: hostile },
    ])
    const body = (await issues())[0]!.body
    // Gitea renders no mention, reference, link or HTML inside a code span; outside them, none may form.
    const prose = body.replace(/(`+) [\s\S]*? \1|(`+)[^`\n]*\2/g, '')
    expect(prose).not.toMatch(/@alice|@bezalel|#1\b/)
    expect(prose).toContain('@\u2060alice')
    expect(prose).not.toMatch(/<(img|script|details|\/details)/i)
    expect(prose).not.toMatch(/\]\(http/)
    expect(body).toContain('`` house=@alice `x` </details> ``')
    expect(body).toContain('`javascript:alert(1)`')
    // The hidden marker is the only HTML, and no line starts a slash command.
    expect(body.match(/<!--/g)).toHaveLength(1)
    expect(body.split('\n').some((l) => /^\s*\//.test(l))).toBe(false)
  })

  it('Gitea down: 503 so Alertmanager retries, the merged state kept; the retry opens exactly one issue', async () => {
    gitea.double.faults.set({
      status: 500,
      match: { path: `/api/v1/repos/${repo.owner}/${repo.name}/issues` },
    })
    const res = await post(notification([{ fp: 'a1', status: 'firing' }]))
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: string }).error).toMatch(/retry/)
    gitea.double.faults.clear()
    expect(await issues()).toEqual([])
    const stored = await new AlertGroupStore({ redis, prefix }).read(groupId(notification([]).groupKey))
    expect(stored).toMatchObject({ known: { a1: { status: 'firing' } }, pending: { kind: 'open' } })
    expect(stored?.issue).toBeUndefined()
    expect((await send([{ fp: 'a1', status: 'firing' }])).steps).toEqual(['open'])
    expect(await issues()).toHaveLength(1)
  })

  it('an issue Gitea opened whose answer was lost is found by its marker, not opened twice', async () => {
    // Gitea applies the create, then holds its answer past the client's timeout.
    gitea.double.faults.set({
      lateMs: 3000,
      count: 1,
      match: { method: 'POST', path: `/api/v1/repos/${repo.owner}/${repo.name}/issues` },
    })
    const res = await post(notification([{ fp: 'a1', status: 'firing' }]))
    expect(res.status).toBe(503)
    expect(await issues()).toHaveLength(1)
    const stored = await new AlertGroupStore({ redis, prefix }).read(groupId(notification([]).groupKey))
    expect(stored?.pending?.kind).toBe('open')
    expect((await send([{ fp: 'a1', status: 'firing' }])).steps).toEqual([])
    expect(await issues()).toHaveLength(1)
    // Recovered: the next change is a comment on that issue.
    expect((await send([{ fp: 'a1', status: 'resolved' }])).steps).toEqual(['comment', 'close'])
  })

  it('dry run: logs the step it would take, opens nothing and records nothing', async () => {
    const bridge = new AlertBridge({
      port,
      store: new AlertGroupStore({ redis, prefix }),
      repo,
      botLogin: 'gitea-bot',
      labels: [],
      log,
      dryRun: true,
    })
    const n = notification([{ fp: 'a1', status: 'firing' }])
    expect(await bridge.receive(n)).toEqual({ group: groupId(n.groupKey), issue: undefined, steps: [] })
    expect(logText).toMatch(/"step":"open".*dry run: alert group step not applied/)
    expect(await issues()).toEqual([])
    expect(await inspector.keys(`${prefix}*`)).toEqual([])
  })

  const refusals: {
    name: string
    body: unknown
    headers?: Record<string, string>
    status: number
    error: RegExp
  }[] = [
    {
      name: 'no token',
      body: notification([{ fp: 'a1', status: 'firing' }]),
      headers: {},
      status: 401,
      error: /Bearer/,
    },
    {
      name: 'a wrong token',
      body: notification([{ fp: 'a1', status: 'firing' }]),
      headers: { authorization: 'Bearer wrong-token-0123456789' },
      status: 401,
      error: /wrong bearer token/,
    },
    { name: 'not JSON', body: '{"version": "4",', status: 400, error: /not JSON/ },
    {
      name: 'another format version',
      body: { ...notification([{ fp: 'a1', status: 'firing' }]), version: '3' },
      status: 400,
      error: /version: .*"4"/,
    },
    {
      name: 'no groupKey',
      body: { ...notification([{ fp: 'a1', status: 'firing' }]), groupKey: undefined },
      status: 400,
      error: /groupKey/,
    },
    {
      name: 'an alert with a bad status',
      body: notification([{ fp: 'a1', status: 'pending' as 'firing' }]),
      status: 400,
      error: /alerts\.0\.status/,
    },
    { name: 'too large', body: 'x'.repeat(70 * 1024), status: 413, error: /larger than/ },
  ]
  it.each(refusals)(
    'refuses $name with a reason and changes nothing',
    async ({ body, headers, status, error }) => {
      const res = await post(body, headers)
      expect(res.status).toBe(status)
      expect(((await res.json()) as { error: string }).error).toMatch(error)
      expect(await issues()).toEqual([])
      expect(await inspector.keys(`${prefix}*`)).toEqual([])
    },
  )

  it('answers 404 when the receiver is not configured', async () => {
    const res = await post(notification([{ fp: 'a1', status: 'firing' }]), undefined, off)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: string }).error).toMatch(/alerts: section/)
  })
})
