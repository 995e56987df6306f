import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Harness, House } from '../../src/harness/index.js'
import { fileRead } from '../../src/tools/index.js'

// The bot runs each job in its own checkout: a per-call `workspaceRoots` replaces the house's
// static roots for that call only, and `resolvedDependencies` is signed into the statement.
describe('per-call workspace roots (a job in its checkout)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uw-roots-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const staticRoot = join(dir, 'static')
  const checkout = join(dir, 'checkout')
  mkdirSync(staticRoot)
  mkdirSync(checkout)
  writeFileSync(join(staticRoot, 'WHERE.txt'), 'static\n')
  writeFileSync(join(checkout, 'WHERE.txt'), 'checkout\n')
  const harness = new Harness({
    house: House.BEZALEL,
    tools: [fileRead],
    keyDir: join(dir, 'keys'),
    auditPath: join(dir, 'audit.jsonl'),
    config: { houses: { bezalel: { workspaceRoots: [staticRoot], proofRequired: false } } },
    sign: true,
  })

  it('resolves relative paths against the call roots, and the static roots stay the default', async () => {
    const inCheckout = await harness.execute(
      'file_read',
      { path: 'WHERE.txt' },
      { requestedBy: 'wren', workspaceRoots: [checkout] },
    )
    expect(inCheckout.status).toBe('success')
    expect(inCheckout.output).toContain('checkout')
    const inStatic = await harness.execute('file_read', { path: 'WHERE.txt' }, { requestedBy: 'wren' })
    expect(inStatic.output).toContain('static')
  })

  it('refuses an absolute path outside the call roots, even one inside the static roots', async () => {
    const r = await harness.execute(
      'file_read',
      { path: join(staticRoot, 'WHERE.txt') },
      { requestedBy: 'wren', workspaceRoots: [checkout] },
    )
    expect(r.status).toBe('failure')
    expect(r.output).not.toContain('static')
  })

  it('signs what the call worked on as resolvedDependencies', async () => {
    const sha = 'a'.repeat(40)
    const dep = { uri: `git+http://gitea.test/o/r.git@${sha}`, digest: { gitCommit: sha } }
    const r = await harness.execute(
      'file_read',
      { path: 'WHERE.txt' },
      { requestedBy: 'wren', workspaceRoots: [checkout], resolvedDependencies: [dep] },
    )
    expect(r.provenance.statement.predicate.resolvedDependencies).toEqual([dep])
    const signed = JSON.parse(Buffer.from(r.provenance.envelope!.payload, 'base64').toString('utf8'))
    expect(signed.predicate.resolvedDependencies).toEqual([dep])
    const plain = await harness.execute('file_read', { path: 'WHERE.txt' }, { requestedBy: 'wren' })
    expect(plain.provenance.statement.predicate.resolvedDependencies).toBeUndefined()
  })
})
