import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { Secret } from '../../src/config/secret.js'

const TOKEN = 'sink-token-0123456789abcdef'
const dir = mkdtempSync(join(tmpdir(), 'uw-tconf-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function load(telemetry: unknown, env: Record<string, string> = {}) {
  const file = join(dir, `c${n++}.yaml`)
  writeFileSync(file, stringify({ telemetry }))
  return loadConfig({ UW_CONFIG: file, ...env })
}
function problems(telemetry: unknown, env: Record<string, string> = {}): string {
  try {
    load(telemetry, env)
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  throw new Error('loaded without a problem')
}

describe('telemetry.sink configuration', () => {
  it('reads the token from the variable tokenEnv names into a Secret, with the defaults', () => {
    const c = load(
      { sink: { url: 'https://timmy.example/telemetry', tokenEnv: 'UW_SINK_TOKEN' } },
      { UW_SINK_TOKEN: TOKEN },
    )
    const sink = c.file.telemetry.sink!
    expect(sink.token).toBeInstanceOf(Secret)
    expect(sink.token!.reveal()).toBe(TOKEN)
    expect(sink).toMatchObject({
      batchSize: 200,
      maxBatchWaitMs: 0,
      timeoutMs: 5000,
      leaseMs: 15000,
      rejectedRetryMs: 60000,
    })
    expect(JSON.stringify(c)).not.toContain(TOKEN)
    expect(load({}).file.telemetry.sink).toBeUndefined()
  })

  it.each([
    [
      'the variable unset',
      { url: 'https://t.example/x', tokenEnv: 'UW_SINK_TOKEN' },
      {},
      /telemetry\.sink\.tokenEnv: expected environment variable UW_SINK_TOKEN .*found nothing \(UW_SINK_TOKEN is not set\)/,
    ],
    [
      'a short token',
      { url: 'https://t.example/x', tokenEnv: 'UW_SINK_TOKEN' },
      { UW_SINK_TOKEN: 'short-tok' },
      /telemetry\.sink\.tokenEnv: .*found UW_SINK_TOKEN set to a shorter value/,
    ],
    ['no tokenEnv', { url: 'https://t.example/x' }, {}, /telemetry\.sink\.tokenEnv/],
    [
      'a bad tokenEnv name',
      { url: 'https://t.example/x', tokenEnv: 'not a name' },
      {},
      /telemetry\.sink\.tokenEnv: expected an environment variable name/,
    ],
    [
      'not a URL',
      { url: 'timmy', tokenEnv: 'T' },
      { T: TOKEN },
      /telemetry\.sink\.url: expected an http:\/\/ or https:\/\/ URL/,
    ],
    [
      'another scheme',
      { url: 'ftp://timmy.example/x', tokenEnv: 'T' },
      { T: TOKEN },
      /telemetry\.sink\.url: expected an http:\/\/ or https:\/\/ URL/,
    ],
    [
      'credentials in the URL',
      { url: 'https://bot:hunter2-secret@t.example/x', tokenEnv: 'T' },
      { T: TOKEN },
      /telemetry\.sink\.url: expected a URL without user or password/,
    ],
    [
      'retryMaxMs under retryMinMs',
      { url: 'https://t.example/x', tokenEnv: 'T', retryMinMs: 5000, retryMaxMs: 1000 },
      { T: TOKEN },
      /telemetry\.sink\.retryMaxMs: expected retryMaxMs at least retryMinMs/,
    ],
    [
      'batchSize 0',
      { url: 'https://t.example/x', tokenEnv: 'T', batchSize: 0 },
      { T: TOKEN },
      /telemetry\.sink\.batchSize/,
    ],
    [
      'an unknown key',
      { url: 'https://t.example/x', tokenEnv: 'T', token: 'inline-token-0123456789' },
      { T: TOKEN },
      /telemetry\.sink/,
    ],
  ])('refuses %s with a clear reason', (_name, sink, env, reason) => {
    const message = problems({ sink }, env)
    expect(message).toMatch(reason)
    expect(message).not.toContain(TOKEN)
    expect(message).not.toContain('hunter2-secret')
    expect(message).not.toContain('short-tok')
  })

  it('a YAML token in place of tokenEnv is refused and not echoed', () => {
    const message = problems(
      { sink: { url: 'https://t.example/x', tokenEnv: 'T', token: 'inline-token-0123456789' } },
      { T: TOKEN },
    )
    expect(message).not.toContain('inline-token-0123456789')
  })
})
