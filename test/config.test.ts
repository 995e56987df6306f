import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config/index.js'

describe('loadConfig', () => {
  it('applies defaults and splits rotated secrets', () => {
    const c = loadConfig({ WEBHOOK_SECRET: 'old, new' })
    expect(c.env.PORT).toBe(3000)
    expect(c.env.WEBHOOK_SECRET).toEqual(['old', 'new'])
    expect(c.env.LOG_LEVEL).toBe('info')
    expect(c.file.maxBodyBytes).toBe(5 * 1024 * 1024)
  })

  it('lists every problem in one error, naming the variable, the expectation and what was found', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uw-cfg-'))
    const path = join(dir, 'c.yaml')
    writeFileSync(path, 'dryRun: maybe\nunknownKey: 1\n')
    let error: unknown
    try {
      loadConfig({
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        GITEA_URL: 'https://g.example',
        GITEA_TOKEN: 'secret-token-value',
        UW_CONFIG: path,
      })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as ConfigError).message
    expect(message).toContain('env PORT')
    expect(message).toContain('"eighty"')
    expect(message).toContain('env LOG_LEVEL')
    expect(message).toContain('env WEBHOOK_SECRET')
    expect(message).toContain('UW_CONFIG dryRun')
    expect(message).toContain('unknownKey')
    expect(message).not.toContain('secret-token-value')
    expect((error as ConfigError).problems.length).toBeGreaterThanOrEqual(5)
  })

  it('requires a token with GITEA_URL and reports an unreadable config file', () => {
    expect(() =>
      loadConfig({ GITEA_URL: 'https://g.example', WEBHOOK_SECRET: 's', UW_CONFIG: '/nonexistent.yaml' }),
    ).toThrow(/GITEA_TOKEN[\s\S]*UW_CONFIG/)
  })

  it('accepts sentinel and cluster Redis URLs but not http', () => {
    expect(loadConfig({ REDIS_URL: 'redis+sentinel://a:26379,b:26379/mymaster' }).env.REDIS_URL).toContain(
      'sentinel',
    )
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/env REDIS_URL/)
  })

  it('refuses a daemon.defaultHouse that is not a configured house, naming the houses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uw-cfg-'))
    const path = join(dir, 'c.yaml')
    writeFileSync(path, 'daemon:\n  defaultHouse: ezar\nhouses:\n  quill: {}\n')
    expect(() => loadConfig({ UW_CONFIG: path })).toThrow(
      /UW_CONFIG daemon\.defaultHouse[\s\S]*unknown house "ezar"; configured houses: timmy, ezra, bezalel, allegro, quill/,
    )
    writeFileSync(path, 'daemon:\n  defaultHouse: quill\nhouses:\n  quill: {}\n')
    expect(loadConfig({ UW_CONFIG: path }).file.daemon.defaultHouse).toBe('quill')
  })
})
