import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Harness, House } from '../../src/harness/index.js'
import { branchPrefixOf } from '../../src/tools/index.js'
import type { ToolContext, ToolSpec } from '../../src/tools/tool.js'
import { testTool } from './test-tools.js'

// A repository's `.uni-wizard.yaml` reaches the harness per call: its branch prefix replaces
// `toolSettings.git.branchPrefix` for that call only, and its proof commands run after a
// successful tool, their evidence signed with the result (issue 12 §4).
describe('per-call branch prefix and extra proof', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uw-percall-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const prefix = testTool(
    'prefix',
    (async (_a: unknown, ctx: ToolContext) => ({ output: branchPrefixOf(ctx) })) as unknown as Parameters<
      typeof testTool
    >[1],
    { verify: async () => ({ kind: 'prefix', summary: 'read', detail: {} }) },
  )
  const make = (proofRequired: boolean, tools: ToolSpec[] = [prefix]) =>
    new Harness({
      house: House.BEZALEL,
      tools,
      keyDir: join(dir, 'keys'),
      auditPath: join(dir, 'audit.jsonl'),
      config: { houses: { bezalel: { workspaceRoots: [dir], proofRequired } } },
      context: { toolConfig: { git: { branchPrefix: 'team/{house}/' } } },
      sign: true,
    })
  const evidence = (name: string, exitCode: number) => ({
    kind: 'proof-command' as const,
    summary: `proof ${name}: ${exitCode === 0 ? 'passed' : 'failed'} (exit ${exitCode})`,
    detail: {
      name,
      argv: [name],
      exitCode,
      signal: null,
      durationMs: 1,
      stdoutSha256: 'sha256:x',
      stderrSha256: 'sha256:y',
      timedOut: false,
    },
  })

  it('a call’s branch prefix narrows the configured one for that call only', async () => {
    const h = make(false)
    const own = await h.execute('prefix', {}, { requestedBy: 'wren', branchPrefix: 'team/{house}/docs/' })
    expect(own.output).toBe('team/bezalel/docs/')
    expect(own.notes).toEqual([])
    const configured = await h.execute('prefix', {}, { requestedBy: 'wren' })
    expect(configured.output).toBe('team/bezalel/')
  })

  it('a call’s branch prefix that would widen or move the configured one is ignored, with a note', async () => {
    const h = make(false)
    for (const asked of ['bot/{house}/', 'release/', 'team/', 'team/{house}']) {
      const r = await h.execute('prefix', {}, { requestedBy: 'wren', branchPrefix: asked })
      expect(r.output, asked).toBe('team/bezalel/')
      expect(r.notes.join('\n'), asked).toMatch(/may narrow it, never widen it/)
    }
  })

  it('passing proof keeps success and signs its evidence; failing proof ends unverified, signed too', async () => {
    const h = make(true)
    const ok = await h.execute(
      'prefix',
      {},
      { requestedBy: 'wren', proof: async () => ({ passed: true, evidence: [evidence('tests', 0)] }) },
    )
    expect(ok.status).toBe('success')
    const signed = JSON.parse(Buffer.from(ok.provenance.envelope!.payload, 'base64').toString('utf8'))
    expect(signed.predicate.proof).toEqual([evidence('tests', 0)])

    const bad = await h.execute(
      'prefix',
      {},
      {
        requestedBy: 'wren',
        proof: async () => ({ passed: false, evidence: [evidence('tests', 0), evidence('lint', 2)] }),
      },
    )
    expect(bad.status).toBe('unverified')
    expect(bad.error).toMatchObject({ rule: 'proof-commands' })
    expect(bad.error?.reason).toContain('proof lint: failed (exit 2)')
    expect(bad.error?.reason).not.toContain('proof tests')
    const signedBad = JSON.parse(Buffer.from(bad.provenance.envelope!.payload, 'base64').toString('utf8'))
    expect(signedBad.predicate.status).toBe('unverified')
    expect(signedBad.predicate.proof).toHaveLength(2)

    const threw = await h.execute(
      'prefix',
      {},
      {
        requestedBy: 'wren',
        proof: async () => {
          throw new Error('no such program')
        },
      },
    )
    expect(threw.status).toBe('unverified')
    expect(threw.error?.reason).toContain('no such program')
  })

  it('proof does not run when the tool did not succeed', async () => {
    const failing = testTool('fails', async () => {
      throw new Error('boom')
    })
    const h = make(true, [failing])
    let ran = false
    const r = await h.execute(
      'fails',
      {},
      {
        requestedBy: 'wren',
        proof: async () => {
          ran = true
          return { passed: true, evidence: [] }
        },
      },
    )
    expect(r.status).toBe('failure')
    expect(ran).toBe(false)
    expect(r.provenance.statement.predicate.proof).toBeUndefined()
  })
})
