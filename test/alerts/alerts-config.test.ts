import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/index.js'

const TOKEN = 'alerts-token-0123456789abcdef'

describe('the alerts: section', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uw-alerts-cfg-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const load = (yaml: string, env: Record<string, string> = {}) => {
    const path = join(dir, `${Math.random()}.yaml`)
    writeFileSync(path, yaml)
    return loadConfig({ UW_CONFIG: path, ...env })
  }
  const problems = (yaml: string, env: Record<string, string> = {}): string => {
    try {
      load(yaml, env)
    } catch (err) {
      if (err instanceof ConfigError) return err.message
      throw err
    }
    throw new Error('expected a ConfigError')
  }

  it('is off when absent', () => {
    expect(load('dryRun: false\n').file.alerts).toBeUndefined()
  })

  it('reads the repository, the token from the named variable (hidden) and default labels', () => {
    const alerts = load('alerts: { repo: ops/alerts, tokenEnv: UW_ALERTS_TOKEN }\n', {
      UW_ALERTS_TOKEN: TOKEN,
    }).file.alerts
    expect(alerts).toMatchObject({ repo: { owner: 'ops', name: 'alerts' }, labels: ['type/ops'] })
    expect(alerts?.token.reveal()).toBe(TOKEN)
    expect(JSON.stringify(alerts)).not.toContain(TOKEN)
  })

  const bad: {
    name: string
    yaml: string
    env: Record<string, string>
    expected: RegExp[]
    count: number
  }[] = [
    {
      name: 'the token variable unset: one problem, naming it',
      yaml: 'alerts: { repo: ops/alerts, tokenEnv: UW_ALERTS_TOKEN }\n',
      env: {},
      expected: [/alerts\.tokenEnv: .*bearer token.*is not set/],
      count: 1,
    },
    {
      name: 'a short token, never echoed',
      yaml: 'alerts: { repo: ops/alerts, tokenEnv: UW_ALERTS_TOKEN }\n',
      env: { UW_ALERTS_TOKEN: 'short-secret' },
      expected: [/set to a shorter value/],
      count: 1,
    },
    {
      name: 'a repository that is not owner/name and a label not in the catalogue',
      yaml: 'alerts: { repo: alerts, tokenEnv: UW_ALERTS_TOKEN, labels: [type/ops, alert] }\n',
      env: { UW_ALERTS_TOKEN: TOKEN },
      expected: [/alerts\.repo.*owner\/name/, /alerts\.labels\.1.*"alert" is not in the label catalogue/],
      count: 2,
    },
    {
      name: 'a house label, which would route commands or start an agent task on alert text',
      yaml: 'alerts: { repo: ops/alerts, tokenEnv: UW_ALERTS_TOKEN, labels: [type/ops, house/bezalel] }\n',
      env: { UW_ALERTS_TOKEN: TOKEN },
      expected: [/alerts\.labels\.1.*"house\/bezalel" routes commands and can start a house's agent task/],
      count: 1,
    },
  ]
  it.each(bad)('refuses $name', ({ yaml, env, expected, count }) => {
    const message = problems(yaml, env)
    for (const e of expected) expect(message).toMatch(e)
    expect(message.match(/UW_CONFIG alerts/g)).toHaveLength(count)
    expect(message).not.toContain('short-secret')
  })
})
