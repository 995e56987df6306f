import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Harness, House, Mode } from '../../src/harness/index.js'
import {
  canonicalJson,
  ExecutionStatement,
  FileAuditLog,
  IN_TOTO_PAYLOAD_TYPE,
  KeyStore,
  pae,
  parseEnvelopeJson,
  sha256Hex,
  RedisAuditLog,
  signEnvelope,
  verifyAuditChain,
  verifyEnvelope,
  type DsseEnvelope,
} from '../../src/provenance/index.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { echo } from '../harness/test-tools.js'

const tmp = () => mkdtempSync(join(tmpdir(), 'uw-prov-'))
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
const prefixes: string[] = []
afterEach(async () => {
  await Promise.all(prefixes.splice(0).map((p) => cleanupPrefix(p)))
})
afterAll(() => redis.disconnect())

describe('DSSE', () => {
  it('PAE matches the spec example', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    )
  })

  it('canonical JSON sorts keys and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: [true, 'x', { d: undefined, c: null }] })).toBe(
      '{"a":[true,"x",{"c":null}],"b":1}',
    )
  })

  it('changing any single byte of a signed envelope makes verification fail', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const env = signEnvelope(Buffer.from('{"hello":"world"}'), IN_TOTO_PAYLOAD_TYPE, privateKey)
    expect(verifyEnvelope(env, [publicKey])).toMatchObject({ valid: true })
    const text = JSON.stringify(env)
    let checked = 0
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string
      const flipped = ch === 'A' ? 'B' : ch === '"' ? "'" : 'A'
      const changed = text.slice(0, i) + flipped + text.slice(i + 1)
      let parsed: unknown
      try {
        parsed = JSON.parse(changed)
      } catch {
        continue // not JSON any more: nothing to verify
      }
      expect(verifyEnvelope(parsed, [publicKey]).valid, `byte ${i} (${ch}->${flipped})`).toBe(false)
      checked++
    }
    expect(checked).toBeGreaterThan(100)
  })

  it('refuses another key, no keys, and things that are not envelopes', () => {
    const a = generateKeyPairSync('ed25519')
    const b = generateKeyPairSync('ed25519')
    const env = signEnvelope(Buffer.from('x'), 'text/plain', a.privateKey)
    expect(verifyEnvelope(env, [b.publicKey])).toMatchObject({
      valid: false,
      reason: expect.stringContaining('unknown key'),
    })
    expect(verifyEnvelope(env, [])).toMatchObject({ valid: false })
    expect(verifyEnvelope({ hello: 1 }, [a.publicKey])).toMatchObject({ valid: false })
    const swapped = { ...env, payloadType: 'application/other' }
    expect(verifyEnvelope(swapped, [a.publicKey]).valid).toBe(false)
  })
})

describe('KeyStore', () => {
  it('generates a key on first use with mode 0600 and returns the same key afterwards', () => {
    const dir = join(tmp(), 'keys')
    const a = new KeyStore(dir).get('timmy')
    expect(statSync(join(dir, 'timmy.key')).mode & 0o777).toBe(0o600)
    const b = new KeyStore(dir).get('timmy')
    expect(b.keyid).toBe(a.keyid)
    expect(a.keyid).toMatch(/^[0-9a-f]{64}$/)
    expect(new KeyStore(dir).publicKeys().map((k) => k.house)).toEqual(['timmy'])
  })
})

describe('execution provenance', () => {
  it('SOVEREIGN results carry a signed in-toto statement that verifies with the house key', async () => {
    const dir = tmp()
    const h = new Harness({
      house: House.TIMMY,
      tools: [echo],
      keyDir: join(dir, 'keys'),
      auditPath: join(dir, 'audit.jsonl'),
      config: { houses: { timmy: { sovereigns: ['alice'] } } },
    })
    const approval = h.approve('echo', { text: 'hi' }, { approver: 'alice' })
    const r = await h.execute(
      'echo',
      { text: 'hi' },
      { requestedBy: 'bob', approval, requestUrl: 'https://g/x#c1', deliveryId: 'd-1' },
    )
    expect(r.status).toBe('success')
    const env = r.provenance.envelope as DsseEnvelope
    const v = verifyEnvelope(env, [h.keys.get('timmy').publicKey])
    expect(v.valid).toBe(true)
    const statement = ExecutionStatement.parse(JSON.parse(Buffer.from(env.payload, 'base64').toString()))
    expect(statement.subject[0]?.digest.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(statement.predicate).toMatchObject({
      requestedBy: 'bob',
      house: 'timmy',
      mode: 'sovereign',
      tool: 'echo',
      status: 'success',
      attempts: 1,
      requestUrl: 'https://g/x#c1',
      deliveryId: 'd-1',
      versions: { node: process.versions.node },
    })
    expect(r.provenance.audit?.seq).toBe(1)
    expect(await verifyAuditChain(h.audit)).toEqual({ ok: true, count: 1 })
    await h.close()
  })

  it('signs the job id, the retry and, for an output longer than a comment shows, the shown part', async () => {
    const h = new Harness({
      house: House.ALLEGRO,
      mode: Mode.SIMPLE,
      tools: [echo],
      auditPath: join(tmp(), 'a.jsonl'),
    })
    const text = `${'x'.repeat(9)}😀tail`
    const r = await h.execute(
      'echo',
      { text },
      {
        requestedBy: 'sage',
        job: { id: 'j1' },
        retryOf: { jobId: 'j1', requestedBy: 'wren' },
        shownOutputChars: 10,
      },
    )
    const s = r.provenance.statement
    expect(s.subject[0]?.digest.sha256).toBe(sha256Hex(text))
    expect(s.predicate).toMatchObject({
      requestedBy: 'sage',
      jobId: 'j1',
      retryOf: { jobId: 'j1', requestedBy: 'wren' },
      // The cut never splits the emoji's surrogate pair: 9 characters shown, not 10.
      output: { chars: text.length, shown: { chars: 9, sha256: sha256Hex('x'.repeat(9)) } },
    })
    const short = await h.execute('echo', { text: 'hi' }, { requestedBy: 'sage', shownOutputChars: 10 })
    expect(short.provenance.statement.predicate.output).toEqual({ chars: 2 })
  })

  it('SIMPLE results carry an unsigned statement and write no audit entry', async () => {
    const h = new Harness({
      house: House.ALLEGRO,
      mode: Mode.SIMPLE,
      tools: [echo],
      auditPath: join(tmp(), 'a.jsonl'),
    })
    const r = await h.execute('echo', {}, { requestedBy: 'bob' })
    expect(r.provenance.envelope).toBeUndefined()
    expect(r.provenance.statement.predicate.mode).toBe('simple')
  })
})

describe('parseEnvelopeJson', () => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const env = signEnvelope(Buffer.from('{}'), IN_TOTO_PAYLOAD_TYPE, privateKey)
  it('reads an envelope given on its own', () => {
    expect(parseEnvelopeJson(JSON.stringify(env, null, 2))).toEqual(env)
    expect(parseEnvelopeJson(`\n  ${JSON.stringify(env)}\n`)).toEqual(env)
  })
  // Text around an envelope is never searched: anyone can paste one into a comment, so a bot
  // comment is read only by its layout (readResultComment).
  const cases: [string, string][] = [
    ['a comment holding a fenced block', `Result: success\n\n\`\`\`json\n${JSON.stringify(env)}\n\`\`\`\n`],
    ['a marker', `<!-- uni-wizard:envelope ${JSON.stringify(env)} -->`],
    ['JSON that is no envelope', '{"a":1}'],
  ]
  it.each(cases)('finds nothing in %s', (_n, text) => expect(parseEnvelopeJson(text)).toBeUndefined())
})

describe('audit chain', () => {
  const { privateKey } = generateKeyPairSync('ed25519')
  const envelope = (n: number) => signEnvelope(Buffer.from(`{"n":${n}}`), IN_TOTO_PAYLOAD_TYPE, privateKey)

  it('file: verifies, then names the first broken link after an edit', async () => {
    const path = join(tmp(), 'audit.jsonl')
    const log = new FileAuditLog(path)
    for (let i = 0; i < 5; i++) await log.append(envelope(i))
    await log.close()
    expect(await verifyAuditChain(new FileAuditLog(path))).toEqual({ ok: true, count: 5 })
    // A new process continues the chain from the file's tip.
    const again = new FileAuditLog(path)
    expect((await again.append(envelope(5))).seq).toBe(6)
    await again.close()
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
    lines[2] = (lines[2] as string).replace('"seq":3', '"seq":3,"time":"2000-01-01T00:00:00.000Z"')
    const entry = JSON.parse(lines[2] as string)
    entry.time = '2000-01-01T00:00:00.000Z'
    lines[2] = JSON.stringify(entry)
    writeFileSync(path, `${lines.join('\n')}\n`)
    const v = await verifyAuditChain(new FileAuditLog(path))
    expect(v).toMatchObject({ ok: false, count: 2, brokenAt: { index: 2, where: `${path}:3` } })
    if (!v.ok) expect(v.brokenAt.reason).toContain('changed')
  })

  it('file: a removed line is named as a missing entry', async () => {
    const path = join(tmp(), 'audit.jsonl')
    const log = new FileAuditLog(path)
    for (let i = 0; i < 4; i++) await log.append(envelope(i))
    await log.close()
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
    lines.splice(1, 1)
    writeFileSync(path, `${lines.join('\n')}\n`)
    const v = await verifyAuditChain(new FileAuditLog(path))
    expect(v).toMatchObject({ ok: false, brokenAt: { index: 1, where: `${path}:2` } })
  })

  it('redis: concurrent appenders never fork the chain; XDEL of one entry is detected', async () => {
    const prefix = uniquePrefix()
    prefixes.push(prefix)
    const other = new Redis(testRedisUrl())
    const a = new RedisAuditLog(redis, prefix)
    const b = new RedisAuditLog(other, prefix)
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append(envelope(i))))
    expect(await verifyAuditChain(a)).toEqual({ ok: true, count: 20 })
    const ids = (await redis.xrange(`${prefix}:audit`, '-', '+')).map(([id]) => id)
    await redis.xdel(`${prefix}:audit`, ids[7] as string)
    const v = await verifyAuditChain(a)
    expect(v).toMatchObject({
      ok: false,
      count: 7,
      brokenAt: { index: 7, where: `${prefix}:audit ${ids[8]}` },
    })
    other.disconnect()
  })
})
