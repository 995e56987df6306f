import { describe, expect, it } from 'vitest'
import { createRedactor } from '../../src/harness/redactor.js'
import { sinkErrorText } from '../../src/telemetry/sink-client.js'

const TOKEN = 'sink-token-0123456789abcdef'

describe('sinkErrorText: what of a sink error answer is logged', () => {
  const redact = createRedactor([TOKEN])
  const cases: { name: string; body: string; shown: RegExp; hidden: string[] }[] = [
    {
      name: 'an echoed Authorization header',
      body: JSON.stringify({ error: 'bad gateway', headers: { authorization: `Bearer ${TOKEN}` } }),
      shown: /bad gateway.*"authorization":"Bearer \[redacted\]"/,
      hidden: [TOKEN],
    },
    {
      name: 'the token alone, without a scheme or key',
      body: `upstream said: ${TOKEN} is unknown`,
      shown: /^upstream said: \[redacted\] is unknown$/,
      hidden: [TOKEN],
    },
    {
      name: 'any other Bearer value (a proxy adding its own credential)',
      body: 'proxy error; forwarded with Bearer proxy-credential-xyz',
      shown: /Bearer \[redacted\]$/,
      hidden: ['proxy-credential-xyz'],
    },
    {
      name: 'the token URL-encoded in an echoed query',
      body: `GET /x?t=${encodeURIComponent(TOKEN)} failed`,
      shown: /failed$/,
      hidden: [TOKEN, encodeURIComponent(TOKEN)],
    },
    {
      name: 'the token straddling the 200-character cut: no part of it survives',
      body: `${'x'.repeat(190)}${TOKEN}`,
      shown: /^x{190}\[redacted\]$/,
      hidden: [TOKEN.slice(0, 10)],
    },
    {
      name: 'an ordinary error, kept as it is and cut at 200 characters',
      body: `{"error":"disk full"}${'.'.repeat(500)}`,
      shown: /^\{"error":"disk full"\}\.{179}$/,
      hidden: [],
    },
  ]
  it.each(cases)('$name', ({ body, shown, hidden }) => {
    const text = sinkErrorText(body, redact)
    expect(text).toMatch(shown)
    for (const h of hidden) expect(text).not.toContain(h)
  })
})
