import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, Secret } from '../../src/config/index.js'
import { Harness } from '../../src/harness/harness.js'
import {
  agentKeys,
  HarnessConfig,
  houseForTask,
  HousesSection,
  resolveHouses,
} from '../../src/houses/index.js'
import { createLogger } from '../../src/logger.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'uw-agent-cfg-'))
  dirs.push(dir)
  const path = join(dir, 'houses.yaml')
  writeFileSync(path, yaml)
  return path
}

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('expected a ConfigError')
}

// The design's houses.yaml, as written there.
const DESIGN = `houses:
  timmy:
    endpoint: http://timmy.local:8642
    auth_token: \${TIMMY_TOKEN}
    priority: 1
    role: sovereign
  ezra:
    endpoint: http://ezra.local:8642
    auth_token: \${EZRA_TOKEN}
    priority: 2
    role: archivist
`
const TIMMY_KEY = 'timmy-planted-key-0123456789abcdef'
const EZRA_KEY = 'ezra-planted-key-fedcba9876543210'

describe('house agents in the config', () => {
  it("accepts the design's houses.yaml as written: endpoint + auth_token is a hermes agent with the key from the environment", () => {
    const c = loadConfig({ UW_CONFIG: configFile(DESIGN), TIMMY_TOKEN: TIMMY_KEY, EZRA_TOKEN: EZRA_KEY })
    const houses = resolveHouses(c.file.houses, {})
    expect(houses.timmy).toMatchObject({
      role: 'sovereign',
      priority: 1,
      mode: 'sovereign',
      agent: {
        backend: 'hermes',
        endpoint: 'http://timmy.local:8642',
        limits: {
          maxTurns: 30,
          wallTimeSeconds: 1800,
          maxTokensPerJob: 200_000,
          dailyTokenBudget: 2_000_000,
        },
      },
    })
    expect(houses.timmy?.agent?.key?.reveal()).toBe(TIMMY_KEY)
    expect(houses.ezra?.agent?.key?.reveal()).toBe(EZRA_KEY)
    expect(houses.ezra?.role).toBe('archivist')
    // Houses without an agent keep the tool-only behaviour.
    expect(houses.bezalel?.agent).toBeUndefined()
    expect(houses.bezalel?.role).toBe('artificer')
    expect(houses.allegro?.role).toBe('tempo-and-dispatch')
  })

  it('a ${VAR} that is not set is one start-up problem naming the variable, never a value', () => {
    const err = configError({ UW_CONFIG: configFile(DESIGN), EZRA_TOKEN: EZRA_KEY, TIMMY_TOKEN: '' })
    expect(err.message).toMatch(
      /UW_CONFIG houses\.timmy\.auth_token: expected environment variable TIMMY_TOKEN to be set.*found TIMMY_TOKEN set to an empty value/,
    )
    expect(err.message).not.toContain(EZRA_KEY)
    const unset = configError({ UW_CONFIG: configFile(DESIGN) })
    expect(unset.problems.map((p) => p.found)).toEqual([
      'nothing (TIMMY_TOKEN is not set)',
      'nothing (EZRA_TOKEN is not set)',
    ])
  })

  it('reads the full agent form: backend, endpoint, keyEnv, model, limits (defaults filled in)', () => {
    const path = configFile(`houses:
  bezalel:
    agent:
      backend: openai
      endpoint: http://127.0.0.1:11434/v1
      keyEnv: OLLAMA_KEY
      model: qwen2.5-coder
      limits: { maxTurns: 12 }
    gitea: { login: bezalel-bot }
`)
    const c = loadConfig({ UW_CONFIG: path, OLLAMA_KEY: 'ollama-key-planted-4242' })
    const h = resolveHouses(c.file.houses, {}).bezalel
    expect(h?.agent).toMatchObject({
      backend: 'openai',
      endpoint: 'http://127.0.0.1:11434/v1',
      keyEnv: 'OLLAMA_KEY',
      model: 'qwen2.5-coder',
      limits: { maxTurns: 12, wallTimeSeconds: 1800, maxTokensPerJob: 200_000, dailyTokenBudget: 2_000_000 },
    })
    expect(h?.agent?.key?.reveal()).toBe('ollama-key-planted-4242')
    expect(h?.login).toBe('bezalel-bot')
    // A keyEnv whose variable is missing stops start-up, naming it.
    expect(configError({ UW_CONFIG: path }).message).toMatch(
      /UW_CONFIG houses\.bezalel\.agent\.keyEnv: expected environment variable OLLAMA_KEY to be set.*found nothing \(OLLAMA_KEY is not set\)/,
    )
  })

  it('an agent without keyEnv has no key (a local model server)', () => {
    const c = loadConfig({
      UW_CONFIG: configFile(
        'houses:\n  ezra:\n    agent: { backend: openai, endpoint: http://localhost:8080/v1 }\n',
      ),
    })
    expect(resolveHouses(c.file.houses, {}).ezra?.agent?.key).toBeUndefined()
  })

  it('refuses every bad agent setting in one error, with a reason for each', () => {
    const path = configFile(`houses:
  ezra:
    agent: { backend: claude, endpoint: ftp://x, keyEnv: 'not a name', limits: { maxTurns: 0, forever: true }, temperature: 1 }
  timmy:
    endpoint: http://user:hunter2-password@timmy.local:8642
  bezalel:
    agent: { backend: hermes, endpoint: http://b.local:8642 }
    endpoint: http://b.local:8642
  allegro:
    role: dispatcher
  scribe:
    auth_token: \${ALLEGRO_TOKEN}
  quill:
    auth_token: \${not-a-name}
    endpoint: http://q.local
`)
    const err = configError({ UW_CONFIG: path, ALLEGRO_TOKEN: 'allegro-planted-key-777777' })
    const m = err.message
    expect(m).toMatch(/houses\.ezra\.agent\.backend: expected one of "hermes", "openai", found "claude"/)
    expect(m).toMatch(/houses\.ezra\.agent\.endpoint: expected an http\(s\) URL/)
    expect(m).toMatch(/houses\.ezra\.agent\.keyEnv: expected an environment variable name/)
    expect(m).toMatch(
      /houses\.ezra\.agent\.limits\.maxTurns: expected a whole number from 1 to 1000, found 0/,
    )
    expect(m).toMatch(/houses\.ezra\.agent\.limits\.forever: expected no such key/)
    expect(m).toMatch(/houses\.ezra\.agent\.temperature: expected no such key/)
    expect(m).toMatch(/houses\.timmy\.endpoint: expected a URL without user or password in it/)
    expect(m).toMatch(
      /houses\.bezalel\.endpoint: expected either agent .* or the design's endpoint and auth_token, not both/,
    )
    expect(m).toMatch(
      /houses\.allegro\.role: expected one of "archivist", "artificer", "sovereign", "tempo-and-dispatch"/,
    )
    expect(m).toMatch(
      /houses\.scribe\.auth_token: expected auth_token together with endpoint.*found a value \(hidden\)/,
    )
    expect(m).toMatch(/houses\.quill\.auth_token: expected \$\{NAME\} with an environment variable name/)
    expect(m).toContain('http://user:[hidden]@timmy.local:8642')
    expect(m).not.toContain('hunter2-password')
    // The unreadable reference is one problem, not also the schema's complaint about what was left.
    expect(err.problems.filter((p) => p.where.endsWith('houses.quill.auth_token'))).toHaveLength(1)
    expect(m).not.toContain('allegro-planted-key-777777')
  })

  it('refuses a Gitea login claimed by two houses', () => {
    const path = configFile(
      'houses:\n  ezra: { gitea: { login: Helper } }\n  bezalel: { gitea: { login: helper } }\n',
    )
    expect(configError({ UW_CONFIG: path }).message).toMatch(
      /houses\.bezalel\.gitea\.login: expected a login no other house has; "helper" is also houses\.ezra\.gitea\.login/,
    )
  })

  it('never shows a key: not in JSON, inspect, a log line, a template string, nor the Harness re-parse', () => {
    const key = 'sk-planted-agent-key-ABCDEFGHIJKLMNOP'
    const c = loadConfig({
      UW_CONFIG: configFile(
        'houses:\n  ezra:\n    agent: { backend: openai, endpoint: http://m.local/v1, keyEnv: MODEL_KEY }\n',
      ),
      MODEL_KEY: key,
    })
    const policies = resolveHouses(c.file.houses, {})
    const lines: string[] = []
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(chunk.toString())
          cb()
        },
      }),
    })
    log.info({ config: c.file, policy: policies.ezra }, 'config')
    const shown = [
      JSON.stringify(c),
      JSON.stringify(policies),
      inspect(c, { depth: 20 }),
      inspect(policies, { depth: 20, showHidden: true }),
      `${String(policies.ezra?.agent?.key)}`,
      lines.join(''),
    ]
    for (const text of shown) expect(text).not.toContain(key)
    expect(JSON.stringify(policies.ezra?.agent)).toContain('"key":"[hidden]"')
    // The harness parses the loaded file again (start-loop gives it the whole section): the key survives.
    expect(HarnessConfig.parse(c.file).houses.ezra?.agent?.key).toBeInstanceOf(Secret)
    const harness = new Harness({ house: 'ezra', config: c.file })
    expect(harness.policy.agent?.key?.reveal()).toBe(key)
    expect(agentKeys(Object.values(policies))).toEqual([key])
  })

  it('a library caller may name keyEnv without loadConfig: the key is read from the environment given', () => {
    const h = resolveHouses(
      HousesSection.parse({
        ezra: { agent: { backend: 'hermes', endpoint: 'http://e.local:8642', keyEnv: 'EZRA_KEY' } },
      }),
      { EZRA_KEY: 'lib-key-123456' },
    )
    expect(h.ezra?.agent?.key?.reveal()).toBe('lib-key-123456')
    // A ${NAME} reference cannot be read without loadConfig: refused rather than sent as a key.
    expect(() =>
      HarnessConfig.parse({
        houses: { timmy: { endpoint: 'http://t.local', auth_token: '${TIMMY_TOKEN}' } },
      }),
    ).toThrow(/reference was not read from the environment/)
  })
})

describe('houseForTask', () => {
  it('chooses by role, and says so', () => {
    const houses = resolveHouses({}, {})
    expect(houseForTask('ask', houses)).toEqual({
      house: 'ezra',
      reason: 'by role: archivist answers questions',
      byRole: { candidates: ['ezra'], reason: 'by role: archivist answers questions' },
    })
    expect(houseForTask('implement', houses)).toEqual({
      house: 'bezalel',
      reason: 'by role: artificer implements',
      byRole: { candidates: ['bezalel'], reason: 'by role: artificer implements' },
    })
    expect(houseForTask('review', houses)).toEqual({
      house: 'timmy',
      reason: 'by role: sovereign reviews',
      byRole: { candidates: ['timmy'], reason: 'by role: sovereign reviews' },
    })
  })

  it('the configured routing wins over the role', () => {
    const houses = resolveHouses({}, {})
    expect(houseForTask('ask', houses, { routing: { ask: 'timmy' } })).toEqual({
      house: 'timmy',
      reason: 'by configuration: agents.routing.ask is timmy',
    })
  })

  it('among houses of a role: one with an agent first, then the lowest priority', () => {
    const houses = resolveHouses(
      HousesSection.parse({
        sage: { role: 'archivist', agent: { backend: 'openai', endpoint: 'http://s.local/v1' } },
        scribe: {
          role: 'archivist',
          priority: 1,
          agent: { backend: 'openai', endpoint: 'http://s.local/v1' },
        },
      }),
      {},
    )
    expect(houseForTask('ask', houses)).toEqual({
      house: 'scribe',
      reason: 'by role: archivist answers questions (before sage, ezra: its priority 1 comes first)',
      byRole: { candidates: ['scribe', 'sage', 'ezra'], reason: 'by role: archivist answers questions' },
    })
  })

  it('implement never goes to a read-only house, and says when no house fits', () => {
    const houses = resolveHouses({ bezalel: { readOnly: true } }, {})
    expect(houseForTask('implement', houses)).toEqual({
      house: undefined,
      reason:
        'no house has the role artificer and may write; name one with @house, or set agents.routing.implement',
    })
  })

  it('the config refuses a routing to an unknown house, or implement to a read-only house', () => {
    const path = configFile('agents:\n  routing: { ask: ezar, implement: allegro, review: timmy }\n')
    const err = configError({ UW_CONFIG: path })
    expect(err.message).toMatch(
      /UW_CONFIG agents\.routing\.ask: expected unknown house "ezar"; configured houses: timmy/,
    )
    expect(err.message).toMatch(/UW_CONFIG agents\.routing\.implement: expected house allegro is read-only/)
    expect(err.problems).toHaveLength(2)
    writeFileSync(path, 'agents:\n  routing: { ask: timmy, chat: ezra }\n')
    expect(configError({ UW_CONFIG: path }).message).toMatch(/agents\.routing\.chat: expected no such key/)
  })
})
