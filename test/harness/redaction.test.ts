import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { capOutput, createRedactor, Harness, House, REDACTED } from '../../src/harness/index.js'
import { createLogger } from '../../src/logger.js'
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
  ]
  it.each(cases)('%s', (_n, input, expected) => {
    const r = createRedactor([SECRET, 'a b&c=secret!'])
    expect(r(input)).toBe(expected)
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
