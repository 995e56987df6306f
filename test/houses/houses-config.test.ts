import { join, resolve } from 'node:path'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { resolveHouses, toolMatches } from '../../src/houses/index.js'

const root = resolve(import.meta.dirname, '../..')

describe('houses config', () => {
  it('deploy/houses.example.yaml is a valid config', () => {
    const c = loadConfig({ UW_CONFIG: join(root, 'deploy/houses.example.yaml') })
    const houses = resolveHouses(c.file.houses)
    expect(houses.timmy).toMatchObject({
      mode: 'sovereign',
      approvalRequired: 'all',
      sovereigns: ['alice', 'carol'],
    })
    expect(houses.bezalel?.timeouts.git_push).toBe(120_000)
    expect(houses.bezalel?.login).toBe('bezalel')
    expect(houses.ezra?.agent).toMatchObject({ backend: 'openai', model: 'qwen2.5-coder:7b' })
    expect(c.file.breaker.failureThreshold).toBe(5)
  })

  it('defaults follow ARCHITECTURE.md and configured fields override them', () => {
    const h = resolveHouses({ ezra: { sovereigns: ['x'] }, scribe: { mode: 'intelligent' } })
    expect(h.timmy).toMatchObject({ mode: 'sovereign', approvalRequired: 'all', readBeforeWrite: false })
    expect(h.ezra).toMatchObject({ readBeforeWrite: true, sovereigns: ['x'] })
    expect(h.bezalel).toMatchObject({ proofRequired: true })
    expect(h.allegro).toMatchObject({ readOnly: true, mode: 'simple' })
    expect(h.scribe).toMatchObject({ mode: 'intelligent', tools: ['*'], approvalRequired: 'none' })
  })

  it('reports every mistake in the houses section with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uw-houses-'))
    const path = join(dir, 'c.yaml')
    writeFileSync(path, 'houses:\n  ezra:\n    mode: fast\n    readBeforWrite: true\n  Bad Name: {}\n')
    let error: unknown
    try {
      loadConfig({ UW_CONFIG: path })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const text = (error as Error).message
    expect(text).toContain('houses.ezra.mode')
    expect(text).toContain('houses.ezra.readBeforWrite')
    expect(text).toContain('Bad Name')
  })

  it('accepts upper-case mode names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uw-houses-'))
    const path = join(dir, 'c.yaml')
    writeFileSync(path, 'houses:\n  ezra:\n    mode: SOVEREIGN\n')
    expect(resolveHouses(loadConfig({ UW_CONFIG: path }).file.houses).ezra?.mode).toBe('sovereign')
  })
})

describe('toolMatches', () => {
  const cases: [string, string[], boolean][] = [
    ['git_status', ['*'], true],
    ['git_status', ['git_*'], true],
    ['file_read', ['git_*'], false],
    ['git_push', ['git_*', '!git_push'], false],
    ['git_push', ['!git_push', 'git_*'], false],
    ['git_pull', ['git_pu?l'], true],
    ['git.status', ['git_status'], false],
  ]
  it.each(cases)('%s in %j -> %s', (tool, globs, expected) => expect(toolMatches(tool, globs)).toBe(expected))
})
