import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGiteaDouble, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import { GiteaJsAdapter } from '../../src/gitea/gitea-js-adapter.js'
import { GITEA_ROUTES, meteredGitea } from '../../src/gitea/metered-port.js'
import type { RepoRef } from '../../src/gitea/port.js'
import { registerGiteaMetrics } from '../../src/metrics/index.js'
import { freePort } from '../../src/queue/redis-server.js'
import { samples, valueOf } from '../helpers/prom-text.js'

const CONTRACT = resolve(import.meta.dirname, '../../src/gitea/double/gitea-contract.v1.26.3.json')

describe('GITEA_ROUTES', () => {
  it('names a route of Gitea 1.26.3 (its swagger, as the double checks it) for every port call', () => {
    const { allOperations } = JSON.parse(readFileSync(CONTRACT, 'utf8')) as {
      allOperations: Record<string, string>
    }
    expect(Object.entries(GITEA_ROUTES).filter(([, route]) => !(route in allOperations))).toEqual([])
  })
})

describe('meteredGitea over the double', () => {
  let gitea: RunningGiteaDouble
  let repo: RepoRef
  let token: string
  beforeAll(async () => {
    gitea = await startGiteaDouble({ port: 0 })
    const bot = gitea.double.createUser({ login: 'bot' })
    token = bot.token
    repo = gitea.double.createRepo({ owner: 'bot', name: 'secret-project' })
  })
  afterAll(() => gitea.stop())

  function metered(baseUrl = gitea.url) {
    const registry = new Registry()
    const metrics = registerGiteaMetrics(registry, Object.values(GITEA_ROUTES))
    const adapter = new GiteaJsAdapter({ baseUrl, token, retry: { attempts: 1 } })
    return {
      port: meteredGitea(adapter, metrics.observe),
      scrape: async () => samples(await registry.metrics()),
    }
  }

  it('counts calls by route template and outcome, and answers as the port it wraps', async () => {
    const { port, scrape } = metered()
    const issue = await port.createIssue(repo, { title: 'one', body: 'x' })
    const comment = await port.createComment(repo, issue.number, 'hello')
    expect(comment.body).toBe('hello')
    await port.createComment(repo, issue.number, 'again')
    await expect(port.getIssue(repo, 999)).rejects.toMatchObject({ status: 404 })
    const all = await scrape()
    const comments = 'POST /repos/{owner}/{repo}/issues/{index}/comments'
    expect(valueOf(all, 'uw_gitea_requests_total', { route: comments, code: '2xx' })).toBe(2)
    expect(
      valueOf(all, 'uw_gitea_requests_total', {
        route: 'GET /repos/{owner}/{repo}/issues/{index}',
        code: '404',
      }),
    ).toBe(1)
    expect(valueOf(all, 'uw_gitea_request_duration_seconds_count', { route: comments })).toBe(2)
    // Route templates only: no owner, repository, number or host in any label.
    const values = all.flatMap((s) => Object.values(s.labels)).join('\n')
    expect(values).not.toMatch(/secret-project|\/bot\/|999|127\.0\.0\.1/)
  })

  it('counts a server error by its status and a refused connection as network', async () => {
    const { port, scrape } = metered()
    gitea.double.faults.set({ status: 502, count: 1 })
    await expect(port.getRepository(repo)).rejects.toMatchObject({ status: 502 })
    const closed = metered(`http://127.0.0.1:${await freePort()}`)
    await expect(closed.port.getCurrentUser()).rejects.toMatchObject({ status: 0 })
    expect(
      valueOf(await scrape(), 'uw_gitea_requests_total', { route: 'GET /repos/{owner}/{repo}', code: '502' }),
    ).toBe(1)
    expect(
      valueOf(await closed.scrape(), 'uw_gitea_requests_total', { route: 'GET /user', code: 'network' }),
    ).toBe(1)
  })
})
