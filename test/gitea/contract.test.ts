import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startGiteaDouble, GiteaContract, type RunningGiteaDouble } from '../../src/gitea/double/index.js'
import type { GiteaPort } from '../../src/gitea/port.js'
import { seedGiteaWorld, type GiteaWorld } from '../helpers/gitea-world.js'

const contract = GiteaContract.load()
const req = (method: string, path: string, body?: unknown, query = '') => ({
  method,
  path: `/api/v1${path}`,
  query: new URLSearchParams(query),
  contentType: body === undefined ? null : 'application/json',
  body: body === undefined ? undefined : JSON.stringify(body),
})
const res = (method: string, path: string, status: number, body: unknown) => ({
  method,
  path: `/api/v1${path}`,
  status,
  contentType: 'application/json',
  body: JSON.stringify(body),
})
const user = { id: 1, login: 'alice', username: 'alice', email: 'a@x', created: '2026-01-01T00:00:00Z' }

describe('GiteaContract (swagger 1.26.3)', () => {
  it.each([
    ['a valid label', req('POST', '/repos/o/r/labels', { name: 'bug', color: 'ee0701' }), []],
    [
      'a wrong type',
      req('POST', '/repos/o/r/labels', { name: 'bug', color: 7 }),
      ['request body: /color must be string'],
    ],
    [
      'a missing required field',
      req('POST', '/repos/o/r/labels', { name: 'bug' }),
      ["request body: (root) must have required property 'color'"],
    ],
    [
      'an invented field',
      req('POST', '/repos/o/r/issues/1/comments', { body: 'x', bodyy: 'y' }),
      ['request body: (root) must NOT have additional properties (bodyy)'],
    ],
    [
      'a bad enum',
      req('POST', '/repos/o/r/statuses/abc', { state: 'great' }),
      ['request body: /state must be equal to one of the allowed values'],
    ],
    [
      'a non-integer index',
      req('GET', '/repos/o/r/issues/one'),
      ['path parameter index must be an integer, got "one"'],
    ],
    [
      'an undeclared query',
      req('GET', '/repos/o/r/labels', undefined, 'page=1&per_page=5'),
      ['query parameter per_page is not declared'],
    ],
    [
      'a bad query enum',
      req('GET', '/repos/o/r/issues', undefined, 'state=maybe'),
      ['query state must be one of closed|open|all, got "maybe"'],
    ],
    [
      'a COMMENT review',
      req('POST', '/repos/o/r/pulls/2/reviews', { event: 'COMMENT', body: 'ok', commit_id: 'abc' }),
      [],
    ],
    [
      'a review with an event Gitea does not know',
      req('POST', '/repos/o/r/pulls/2/reviews', { event: 'LGTM', body: 'ok' }),
      ['request body: /event must be equal to one of the allowed values'],
    ],
    ['a method Gitea lacks', req('PUT', '/repos/o/r/labels', {}), ['no such operation in Gitea 1.26.3']],
    [
      'an operation the double does not serve',
      req('GET', '/repos/o/r/branches'),
      ['repoListBranches is not served by the double'],
    ],
  ])('request: %s', (_name, request, expected) => {
    expect(contract.checkRequest(request).map((v) => v.message)).toEqual(expected)
  })

  it.each([
    ['a valid user', res('GET', '/user', 200, user), []],
    [
      'an invented field',
      res('GET', '/user', 200, { ...user, karma: 3 }),
      ['response body: (root) must NOT have additional properties (karma)'],
    ],
    ['a wrong type', res('GET', '/user', 200, { ...user, id: '1' }), ['response body: /id must be integer']],
    ['an undeclared status', res('GET', '/user', 201, user), ['status 201 is not declared (declared: 200)']],
    [
      'null where Go has a pointer',
      res('GET', '/repos/o/r/issues/1', 200, {
        number: 1,
        closed_at: null,
        pull_request: null,
        assignees: null,
      }),
      [],
    ],
    [
      'null where Go has a value',
      res('GET', '/repos/o/r/issues/1', 200, { number: 1, title: null }),
      ['response body: /title must be string'],
    ],
    [
      'a review with no team (Go nil pointer)',
      res('POST', '/repos/o/r/pulls/2/reviews', 200, { id: 1, state: 'COMMENT', team: null, html_url: 'x' }),
      [],
    ],
    [
      'a review answered 201 (Gitea answers 200)',
      res('POST', '/repos/o/r/pulls/2/reviews', 201, { id: 1 }),
      ['status 201 is not declared (declared: 200, 404, 422)'],
    ],
    ['a middleware status', res('GET', '/repos/o/r/issues/1', 503, { message: 'down' }), []],
    [
      '422 on an operation with a body',
      res('POST', '/repos/o/r/issues/1/labels', 422, { message: 'bad' }),
      [],
    ],
    [
      '422 on an operation without a body',
      res('GET', '/repos/o/r/issues/1', 422, { message: 'bad' }),
      ['status 422 is not declared (declared: 200, 404)'],
    ],
  ])('response: %s', (_name, response, expected) => {
    expect(contract.checkResponse(response).map((v) => v.message)).toEqual(expected)
  })

  it('every served operation also exists in 1.23.1 (gitea-js 1.23.0’s source) with the same statuses', () => {
    const diff = GiteaContract.differencesFrom1_23_1()
    // 1.26 added the base_branch filter to the pull request list; the adapter does not send it,
    // so gitea-js 1.23.0 lacking it changes nothing.
    expect(diff.operations).toEqual([
      {
        operationId: 'repoListPullRequests',
        difference:
          'parameters 1.26.3 [base_branch,labels,limit,milestone,owner,page,poster,repo,sort,state] vs 1.23.1 [labels,limit,milestone,owner,page,poster,repo,sort,state]',
      },
    ])
    // What did change is additive fields only: nothing the port reads disappeared.
    expect(diff.definitions.every((d) => d.removed.length === 0)).toBe(true)
    expect(diff.definitions.map((d) => d.definition).sort()).toEqual([
      'CreatePullRequestOption',
      'EditIssueOption',
      'Issue',
      'PullRequest',
      'Repository',
    ])
  })
})

describe('the double records contract violations', () => {
  let running: RunningGiteaDouble
  let w: GiteaWorld
  beforeEach(async () => {
    running = await startGiteaDouble()
    w = seedGiteaWorld(running.double)
  })
  afterEach(() => running.stop())

  it('a deliberately bad request body is recorded and fails assertContract', async () => {
    const response = await fetch(`${running.url}/api/v1/repos/alice/demo/labels`, {
      method: 'POST',
      headers: { Authorization: `token ${w.tokens.bot}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'bug2', color: 123456 }),
    })
    // Like Gitea the double still rejects what it cannot use...
    expect(response.status).toBe(422)
    // ...and the contract check names the violation, which fails the test that caused it.
    expect(running.double.violations).toMatchObject([
      {
        direction: 'request',
        operationId: 'issueCreateLabel',
        message: 'request body: /color must be string',
      },
    ])
    expect(() => running.double.assertContract()).toThrow(/issueCreateLabel.*color must be string/)
    expect(running.double.violations).toEqual([])
  })

  it('logs each request with caller, status and operation', async () => {
    const { GiteaJsAdapter } = await import('../../src/gitea/gitea-js-adapter.js')
    const bot: GiteaPort = new GiteaJsAdapter({ baseUrl: running.url, token: w.tokens.bot })
    await bot.getIssue(w.repo, 1)
    expect(running.double.requests.at(-1)).toMatchObject({
      method: 'GET',
      path: '/api/v1/repos/alice/demo/issues/1',
      login: 'gitea-bot',
      status: 200,
      operationId: 'issueGetIssue',
    })
    running.double.assertContract()
  })
})

describe('a non-strict double (sandbox, benchmarks)', () => {
  it('skips the contract checks: a bad body is still refused, but nothing is recorded', async () => {
    const running = await startGiteaDouble({ strict: false })
    try {
      const w = seedGiteaWorld(running.double)
      const response = await fetch(`${running.url}/api/v1/repos/alice/demo/labels`, {
        method: 'POST',
        headers: { Authorization: `token ${w.tokens.bot}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'bug2', color: 123456 }),
      })
      expect(response.status).toBe(422)
      expect(running.double.violations).toEqual([])
      expect(() => running.double.assertContract()).not.toThrow()
      // The request log is kept either way.
      expect(running.double.requests.at(-1)).toMatchObject({ method: 'POST', status: 422 })
    } finally {
      await running.stop()
    }
  })
})
