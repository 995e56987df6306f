import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { routerApprovalSigner, strayHouseKeys } from '../../src/router/router-approvals.js'
import type { JobRecord } from '../../src/jobs/job-store.js'
import { callDigest, readAttestation } from '../../src/harness/approvals/approval.js'
import { KeyStore } from '../../src/provenance/key-store.js'
import { echo } from '../harness/test-tools.js'

const dir = mkdtempSync(join(tmpdir(), 'uw-router-approvals-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the router approval signer', () => {
  it('attests with the router key only, bound to the record, comment and parsed call', () => {
    const keys = new KeyStore(join(dir, 'a'))
    const sign = routerApprovalSigner({ keys, tools: [echo], log: pino({ level: 'silent' }) })
    const rec = {
      id: 'j1',
      runId: 'j1.r2',
      house: 'bezalel',
      tool: 'echo',
      args: { text: 'hi' },
      approvalTtlSeconds: 60,
    } as unknown as JobRecord
    const envelope = sign(rec, 'sage', { id: 7, url: 'http://g/o/r/issues/1#issuecomment-7' })
    const reading = readAttestation(envelope, [keys.routerPublicKey()!])
    expect(reading.valid && reading.attestation).toMatchObject({
      approver: 'sage',
      house: 'bezalel',
      jobId: 'j1',
      runId: 'j1.r2',
      digest: callDigest('echo', echo.args.parse({ text: 'hi' })),
      comment: { id: 7 },
    })
    // No house key was made or read to sign it.
    expect(keys.privateKeyHouses()).toEqual([])
  })

  it('names house private keys a router-only process should not hold', () => {
    const keys = new KeyStore(join(dir, 'b'))
    keys.router()
    expect(strayHouseKeys(keys, [])).toBeUndefined()
    keys.get('timmy')
    keys.get('bezalel')
    expect(strayHouseKeys(keys, ['bezalel'])).toMatch(/timmy\.key are in .* runs no worker/)
    expect(strayHouseKeys(keys, ['bezalel', 'timmy'])).toBeUndefined()
  })
})
