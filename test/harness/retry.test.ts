import { describe, expect, it } from 'vitest'
import { backoffDelay, Harness, House, isTransient } from '../../src/harness/index.js'
import { ToolError } from '../../src/tools/tool.js'
import { testTool } from './test-tools.js'

describe('isTransient', () => {
  const cases: [string, unknown, boolean][] = [
    ['ToolError transient', new ToolError('upstream hiccup', true), true],
    ['ToolError deterministic', new ToolError('no such branch', false), false],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    [
      'EAI_AGAIN in a cause',
      new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'EAI_AGAIN' }) }),
      true,
    ],
    ['HTTP 503 status', Object.assign(new Error('bad gateway'), { status: 503 }), true],
    ['HTTP 404 status', Object.assign(new Error('not found'), { status: 404 }), false],
    ['GiteaError-like transient flag', Object.assign(new Error('gitea down'), { transient: true }), true],
    // Issue 10 (F3): a ToolError's message quotes the caller (`git_log {ref: 'index.lock'}`), so only
    // its flag counts; the git tools mark real lock contention transient themselves.
    [
      'ToolError quoting index.lock, marked deterministic',
      new ToolError("git log failed: fatal: bad revision 'index.lock'", false),
      false,
    ],
    [
      'ToolError wrapping a deterministic ToolError that quotes index.lock',
      new ToolError('x', false, { cause: new ToolError("fatal: Unable to create 'index.lock'", false) }),
      false,
    ],
    [
      'git index.lock from elsewhere (not a ToolError)',
      new Error("fatal: Unable to create '/r/.git/index.lock': File exists."),
      true,
    ],
    ['plain error', new Error('syntax error in file'), false],
    [
      'a transient wrapper of a write that may have happened',
      new ToolError('createIssue failed: timed out', true, {
        cause: Object.assign(new Error('timed out'), { transient: true, mayHaveBeenApplied: true }),
      }),
      false,
    ],
    ['a string', 'nope', false],
  ]
  it.each(cases)('%s -> %s', (_name, err, expected) => expect(isTransient(err)).toBe(expected))
})

describe('backoffDelay', () => {
  it('is full jitter under an exponential, capped ceiling', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1_000 }
    expect(backoffDelay(1, opts, () => 0.999)).toBe(99)
    expect(backoffDelay(3, opts, () => 0.5)).toBe(200)
    expect(backoffDelay(10, opts, () => 0.999)).toBe(999)
    expect(backoffDelay(3, opts, () => 0)).toBe(0)
  })
})

describe('retries in execute', () => {
  const config = { retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 } }
  function counting(errors: unknown[]) {
    let calls = 0
    const tool = testTool('counting', async () => {
      const e = errors[calls++]
      if (e) throw e
      return { output: `ok after ${calls}` }
    })
    return { tool, calls: () => calls }
  }

  it('retries transient failures until success', async () => {
    const c = counting([
      new ToolError('503', true),
      Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
    ])
    const r = await new Harness({ house: House.ALLEGRO, tools: [c.tool], config }).execute(
      'counting',
      {},
      { requestedBy: 'b' },
    )
    expect([r.status, r.attempts, c.calls(), r.output]).toEqual(['success', 3, 3, 'ok after 3'])
  })

  it('does not retry a deterministic failure', async () => {
    const c = counting([new ToolError('no such repo', false)])
    const r = await new Harness({ house: House.ALLEGRO, tools: [c.tool], config }).execute(
      'counting',
      {},
      { requestedBy: 'b' },
    )
    expect([r.status, r.attempts, c.calls(), r.error?.rule]).toEqual(['failure', 1, 1, 'tool-failure'])
  })

  it('gives up after maxAttempts transient failures and says so', async () => {
    const c = counting(Array.from({ length: 10 }, () => new ToolError('still down', true)))
    const r = await new Harness({ house: House.ALLEGRO, tools: [c.tool], config }).execute(
      'counting',
      {},
      { requestedBy: 'b' },
    )
    expect([r.status, r.attempts, c.calls(), r.error?.transient]).toEqual(['failure', 4, 4, true])
    expect(r.error?.reason).toContain('after 4 attempts')
  })
})
