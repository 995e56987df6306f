// The dashboard: section through loadConfig: off by default, secrets read from the variables it
// names, one error listing every problem, and no secret echoed in it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/index.js'

const dir = mkdtempSync(join(tmpdir(), 'uw-dash-cfg-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function withFile(yaml: string, env: Record<string, string> = {}) {
  const path = join(dir, `c${n++}.yaml`)
  writeFileSync(path, yaml)
  return () => loadConfig({ UW_CONFIG: path, ...env })
}

function problems(load: () => unknown): string {
  try {
    load()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).message
  }
  throw new Error('expected a ConfigError')
}

const SECRET = 'a-session-secret-of-more-than-32-chars'

describe('dashboard config', () => {
  it('is off by default, and a disabled section needs none of its variables', () => {
    expect(loadConfig({}).file.dashboard).toMatchObject({ enabled: false, basePath: '/dashboard' })
    const off = withFile('dashboard:\n  sessionSecretEnv: UW_UNSET_SECRET\n')()
    expect(off.file.dashboard.sessionSecret).toBeUndefined()
  })

  it('limits failed token logins by default and believes no proxy unless told', () => {
    expect(loadConfig({}).file.dashboard).toMatchObject({
      loginLimits: { perClient: 10, overall: 100, windowMinutes: 15 },
      trustedProxies: [],
    })
    const c = withFile(
      'dashboard:\n  loginLimits: { perClient: 5 }\n  trustedProxies: [127.0.0.1, 10.0.0.0/8]\n',
    )()
    expect(c.file.dashboard.loginLimits).toEqual({ perClient: 5, overall: 100, windowMinutes: 15 })
    expect(c.file.dashboard.trustedProxies).toEqual(['127.0.0.1', '10.0.0.0/8'])
    expect(problems(withFile('dashboard:\n  trustedProxies: [proxy.internal]\n'))).toContain(
      'an IP address or CIDR block',
    )
    expect(problems(withFile('dashboard:\n  loginLimits: { perClient: 0 }\n'))).toContain(
      'dashboard.loginLimits.perClient',
    )
  })

  it('reads the session secret, the OAuth2 client secret and the tokens from the named variables', () => {
    const c = withFile(
      [
        'dashboard:',
        '  enabled: true',
        '  sessionSecretEnv: UW_DASH_SECRET',
        '  oauth: { clientId: abc, clientSecretEnv: UW_DASH_OAUTH }',
        '  tokens: [{ tokenEnv: UW_DASH_TOKEN, login: ops, role: admin }]',
      ].join('\n'),
      { UW_DASH_SECRET: SECRET, UW_DASH_OAUTH: 'client-secret', UW_DASH_TOKEN: 'a-login-token-0123456789' },
    )()
    const d = c.file.dashboard
    expect(d.sessionSecret?.reveal()).toBe(SECRET)
    expect(d.oauth?.clientSecret?.reveal()).toBe('client-secret')
    expect(d.tokens[0]).toMatchObject({ login: 'ops', role: 'admin' })
    expect(d.tokens[0]?.token?.reveal()).toBe('a-login-token-0123456789')
    // Printed or logged, the secrets are hidden.
    expect(JSON.stringify(c)).not.toContain(SECRET)
    expect(JSON.stringify(c)).not.toContain('a-login-token-0123456789')
  })

  it.each([
    [
      'no session secret and no way in',
      'dashboard:\n  enabled: true\n',
      {},
      ['UW_CONFIG dashboard.sessionSecretEnv', 'UW_CONFIG dashboard.oauth'],
    ],
    [
      'a short session secret and an unset token variable',
      'dashboard:\n  enabled: true\n  sessionSecretEnv: S\n  tokens: [{ tokenEnv: T, login: ops }]\n',
      { S: 'too-short-secret' },
      ['S set to a shorter value', 'T is not set'],
    ],
    ['a bad base path', 'dashboard:\n  basePath: dashboard/\n', {}, ['UW_CONFIG dashboard.basePath']],
    ['an unknown key', 'dashboard:\n  colour: blue\n', {}, ['colour']],
  ])('refuses %s, saying what is expected and never the secret', (_, yaml, env, expected) => {
    const message = problems(withFile(yaml, env))
    for (const e of expected) expect(message).toContain(e)
    expect(message).not.toContain('too-short-secret')
  })
})
