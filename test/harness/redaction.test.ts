import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { capOutput, createRedactor, Harness, House, REDACTED } from '../../src/harness/index.js'
import { createLogger } from '../../src/logger.js'
import { builtinTools } from '../../src/tools/index.js'
import { ToolError } from '../../src/tools/tool.js'
import { testTool } from './test-tools.js'

const SECRET = 'sup3r-s3cret-planted-value'

describe('createRedactor', () => {
  const redact = createRedactor([SECRET])
  const cases: [string, string, string][] = [
    ['configured secret', `value is ${SECRET}!`, `value is ${REDACTED}!`],
    ['URL-encoded secret', `q=${encodeURIComponent('a b&c=secret!')}`, 'q=[redacted]'],
    [
      'Authorization token',
      'Authorization: token 0123456789abcdef0123456789abcdef01234567',
      `Authorization: token ${REDACTED}`,
    ],
    ['Authorization Bearer', 'authorization: Bearer eyJhbGciOi.x.y', `authorization: Bearer ${REDACTED}`],
    ['GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', REDACTED],
    ['AWS key id', 'id AKIAIOSFODNN7EXAMPLE end', `id ${REDACTED} end`],
    ['AWS secret', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG', `aws_secret_access_key = ${REDACTED}`],
    ['password=', 'db password=hunter2 ok', `db password=${REDACTED} ok`],
    ['token: in JSON', '{"token":"abc123def"}', `{"token":"${REDACTED}"}`],
    ['URL userinfo', 'https://bob:pa55word@git.example/x.git', `https://bob:${REDACTED}@git.example/x.git`],
    [
      'PEM private key',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAB3Nza\n-----END OPENSSH PRIVATE KEY-----',
      `-----BEGIN PRIVATE KEY-----${REDACTED}-----END PRIVATE KEY-----`,
    ],
    [
      'a commit id is kept',
      'commit 0123456789abcdef0123456789abcdef01234567',
      'commit 0123456789abcdef0123456789abcdef01234567',
    ],
    ['ordinary text is kept', 'tokens of appreciation', 'tokens of appreciation'],
    // Issue 10: secret-bearing keys in JSON, YAML and Python dicts, whatever the quoting.
    [
      'JSON Authorization Bearer',
      '{"Authorization": "Bearer eyJhbGciOi.x.y"}',
      `{"Authorization": "Bearer ${REDACTED}"}`,
    ],
    ['JSON authorization token', '{"authorization":"token abc123"}', `{"authorization":"token ${REDACTED}"}`],
    [
      'single-quoted Authorization',
      "{'Authorization': 'Basic dXNlcjpwdw=='}",
      `{'Authorization': 'Basic ${REDACTED}'}`,
    ],
    [
      'JSON password with spaces is hidden whole',
      '{"password": "correct horse battery staple"}',
      `{"password": "${REDACTED}"}`,
    ],
    ['JSON password that is one word', '{"password": "hunter"}', `{"password": "${REDACTED}"}`],
    ['Python api_key', "{'api_key': 'k-123'}", `{'api_key': '${REDACTED}'}`],
    ['camelCase apiKey', 'apiKey: Zx81-aa', `apiKey: ${REDACTED}`],
    ['env assignment', 'GITEA_TOKEN=abcdef', `GITEA_TOKEN=${REDACTED}`],
    ['YAML auth_token with a credential', 'auth_token: 9f8e7d6c5b4a', `auth_token: ${REDACTED}`],
    ['YAML secret of 12+ letters', 'client_secret: SomeLongSecretValue', `client_secret: ${REDACTED}`],
    ['escaped quote inside the value', '{"secret": "a\\"b c"}', `{"secret": "${REDACTED}"}`],
    // Prose after a secret-looking key is kept: the words are not a credential.
    ['prose after secret:', 'secret: No such file', 'secret: No such file'],
    ['prose after password:', 'password: required for login', 'password: required for login'],
    [
      'prose after token:',
      'error reading token: missing or invalid',
      'error reading token: missing or invalid',
    ],
    ['JSON null and empty are kept', '{"token": null, "password": ""}', '{"token": null, "password": ""}'],
    ['a word that only contains a key is kept', 'passwords: 3 left', 'passwords: 3 left'],
    // Issue 10 (F6): credentials with their own shapes.
    [
      'PGP private key block',
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGXsecret\n-----END PGP PRIVATE KEY BLOCK-----',
      `-----BEGIN PRIVATE KEY-----${REDACTED}-----END PRIVATE KEY-----`,
    ],
    [
      'netrc on one line',
      'machine gitea.example login bot password s3cr3tPassw0rd',
      `machine gitea.example login bot password ${REDACTED}`,
    ],
    [
      'netrc password line',
      'machine h\n  login bot\n  password s3cr3tPassw0rd',
      `machine h\n  login bot\n  password ${REDACTED}`,
    ],
    [
      'bare JWT',
      'id eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok',
      `id ${REDACTED} ok`,
    ],
    [
      'docker config auth',
      '{"auths":{"r":{"auth":"Ym90OnMzY3IzdA=="}}}',
      `{"auths":{"r":{"auth":"${REDACTED}"}}}`,
    ],
    ['GitLab token', 'glpat-abcdefghijklmnop1234', REDACTED],
    ['sk- key', 'key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789', `key ${REDACTED}`],
    ['Google API key', 'AIzaSyA1234567890abcdefghijklmnopqrstuv', REDACTED],
    ['GitHub fine-grained token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnop', REDACTED],
    ['Slack bot token', 'xoxb-1234567890-abcdefghij', REDACTED],
    // ...and prose that only looks like them is kept.
    ['prose: a password line in English', 'password is required for login', 'password is required for login'],
    ['prose: the word password alone on a line', 'password\nreset it', 'password\nreset it'],
    [
      'prose: login and password in a sentence',
      'enter your login and password below',
      'enter your login and password below',
    ],
    ['prose: sk- in a word', 'the task-force and disk-free tools', 'the task-force and disk-free tools'],
    ['prose: a short glpat- mention', 'tokens start with glpat-', 'tokens start with glpat-'],
    ['prose: auth key in JSON with a word', '{"auth": "none"}', '{"auth": "none"}'],
  ]
  it.each(cases)('%s', (_n, input, expected) => {
    const r = createRedactor([SECRET, 'a b&c=secret!'])
    expect(r(input)).toBe(expected)
  })
  // Issue 10 (F4): a secret read in part, or re-encoded, is still the secret.
  const HEX = 'a3f9c2e17b5d4e8f9a0b1c2d3e4f5a6b7c8d9e0f11223344556677889900aabb'
  const PEM =
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHh0ZXN0LWtleS1tYXRlcmlhbC1ub3QtcmVhbA==\n-----END PRIVATE KEY-----\n'
  const partial: [string, string][] = [
    ['its first 63 of 64 characters', HEX.slice(0, 63)],
    ['its last 40 characters', HEX.slice(-40)],
    ['12 characters from its middle', `x ${HEX.slice(20, 32)} y`],
    ['base64 of a file holding it (file_read encoding: base64)', Buffer.from(`${HEX}\n`).toString('base64')],
    ['base64 of it at another alignment', Buffer.from(`pw=${HEX}`).toString('base64')],
    ['base64 of it cut short', Buffer.from(`${HEX}\n`).toString('base64').slice(0, 40)],
    ['base64url of it', Buffer.from(`${HEX}??>`).toString('base64url')],
    ['Basic auth of user:secret', `Basic ${Buffer.from(`bot:${HEX}`).toString('base64')}`],
    ['base64 of a PEM private key', Buffer.from(PEM).toString('base64')],
  ]
  it.each(partial)('hides %s', (_what, text) => {
    const out = createRedactor([HEX])(text)
    expect(out).toContain(REDACTED)
    for (let i = 0; i + 12 <= HEX.length; i++) expect(out).not.toContain(HEX.slice(i, i + 12))
    expect(out).not.toMatch(/[A-Za-z0-9+/]{40,}/)
  })
  it('keeps fewer than 12 characters of a secret, other base64 and commit ids', () => {
    const r = createRedactor([HEX])
    expect(r(`prefix ${HEX.slice(0, 11)}`)).toBe(`prefix ${HEX.slice(0, 11)}`)
    const b64 = Buffer.from('just an ordinary file, nothing secret in it at all\n').toString('base64')
    expect(r(b64)).toBe(b64)
    const sha = 'commit 0123456789abcdef0123456789abcdef01234567'
    expect(r(sha)).toBe(sha)
  })
  it('costs little on a 64 KiB output', () => {
    const r = createRedactor([HEX, 'hunter2-webhook-secret'])
    const text = 'commit 0123456789abcdef0123456789abcdef01234567 the quick brown fox\n'
      .repeat(1000)
      .slice(0, 65536)
    r(text)
    const t0 = performance.now()
    for (let i = 0; i < 10; i++) r(text)
    // ~5 ms on a 2-core CI machine; the bound only catches a quadratic scan.
    expect((performance.now() - t0) / 10).toBeLessThan(100)
  })

  it('ignores configured values too short to be secrets', () => {
    expect(createRedactor(['a', undefined, ''])('a cat')).toBe('a cat')
    expect(redact(SECRET.slice(0, 5))).toBe(SECRET.slice(0, 5))
  })
})

describe('capOutput', () => {
  it('keeps the cap and says how many bytes were cut, never splitting a character', () => {
    const r = capOutput('é'.repeat(1000), 1001)
    expect(r.cutBytes).toBe(1000)
    expect(r.text).toContain('[output truncated: 1000 more bytes not shown]')
    expect(r.text.startsWith('é'.repeat(500))).toBe(true)
    expect(capOutput('short', 1024)).toEqual({ text: 'short', cutBytes: 0 })
  })
})

describe('a planted secret never leaves the harness', () => {
  it('is absent from the result, the provenance, the audit log and the logs', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk))
        cb()
      },
    })
    const log = createLogger({ level: 'trace', destination: sink })
    let calls = 0
    const leaky = testTool(
      'leaky',
      async () => {
        calls++
        if (calls === 1) throw new ToolError(`transient; auth was ${SECRET}`, true)
        return {
          output: `token=${SECRET}\nAuthorization: Bearer ${SECRET}\n${SECRET}`,
          data: { nested: [SECRET] },
        }
      },
      {
        verify: async () => ({ kind: 'leak', summary: `saw ${SECRET}`, detail: { s: SECRET } }),
      },
    )
    const failingLeak = testTool('failing_leak', async () => {
      throw new Error(`cannot connect with password ${SECRET}`)
    })
    const dir = mkdtempSync(join(tmpdir(), 'uw-redact-'))
    const h = new Harness({
      house: House.BEZALEL,
      tools: [leaky, failingLeak],
      log,
      secrets: [SECRET],
      sign: true,
      keyDir: join(dir, 'keys'),
      auditPath: join(dir, 'audit.jsonl'),
      config: { retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 } },
    })
    const ok = await h.execute('leaky', {}, { requestedBy: 'b' })
    const bad = await h.execute('failing_leak', {}, { requestedBy: 'b' })
    await h.close()
    expect(ok.status).toBe('success')
    expect(ok.output).toContain(REDACTED)
    expect(bad.error?.reason).toContain(REDACTED)
    const everything = [
      JSON.stringify(ok),
      JSON.stringify(bad),
      Buffer.from(ok.provenance.envelope?.payload ?? '', 'base64').toString(),
      readFileSync(join(dir, 'audit.jsonl'), 'utf8'),
      lines.join(''),
    ]
    expect(lines.length).toBeGreaterThan(2)
    for (const text of everything) expect(text).not.toContain(SECRET)
  })
})

// Issue 10 (F4): file_read of a password file cut one character short, or as base64, and of a key
// file as base64, showed them. Through the whole Harness, as `/run file_read` would.
describe('file_read never shows a configured secret or a private key, however it is read', () => {
  const pw = 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f'
  const pem =
    '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHh0ZXN0LWtleS1tYXRlcmlhbC1ub3QtcmVhbA==\n-----END PRIVATE KEY-----\n'
  const root = mkdtempSync(join(tmpdir(), 'uw-redact-read-'))
  writeFileSync(join(root, 'password'), `${pw}\n`)
  writeFileSync(join(root, 'deploy.key'), pem)
  const h = new Harness({
    house: House.ALLEGRO,
    tools: builtinTools,
    secrets: [pw],
    keyDir: join(root, '..', `uw-redact-read-keys-${process.pid}`),
    config: { houses: { allegro: { workspaceRoots: [root] } } },
  })
  afterAll(() => {
    rmSync(root, { recursive: true, force: true })
    rmSync(join(root, '..', `uw-redact-read-keys-${process.pid}`), { recursive: true, force: true })
  })
  it.each([
    ['utf8', { path: 'password' }],
    ['the first 63 bytes', { path: 'password', maxBytes: 63 }],
    ['the first 20 bytes', { path: 'password', maxBytes: 20 }],
    ['base64', { path: 'password', encoding: 'base64' }],
    ['base64, the first 30 bytes', { path: 'password', encoding: 'base64', maxBytes: 30 }],
  ])('the password file read as %s', async (_what, args) => {
    const r = await h.execute('file_read', args, { requestedBy: 'mallory' })
    expect(r.status).toBe('success')
    const shown = `${r.output}\n${Buffer.from(r.output.replace(/\n.*$/s, ''), 'base64').toString('latin1')}`
    for (let i = 0; i + 12 <= pw.length; i++) expect(shown).not.toContain(pw.slice(i, i + 12))
  })
  it('a private key file read as base64', async () => {
    const r = await h.execute(
      'file_read',
      { path: 'deploy.key', encoding: 'base64' },
      { requestedBy: 'mallory' },
    )
    expect(r.status).toBe('success')
    expect(Buffer.from(r.output.trim(), 'base64').toString('latin1')).not.toContain('PRIVATE KEY')
    expect(r.output).not.toContain('MC4CAQAwBQYDK2VwBCIEI')
  })
})
