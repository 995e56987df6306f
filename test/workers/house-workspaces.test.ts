import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FileConfig } from '../../src/config/file-config.js'
import { daemonHouses } from '../../src/workers/house-workspaces.js'
import { resolveHouses } from '../../src/houses/house-policy.js'

const dir = mkdtempSync(join(tmpdir(), 'uw-daemon-ws-'))
// keys.dir outside `dir` (its parent test root must not contain it)
const elsewhereKeys = join(tmpdir(), 'uw-daemon-ws-keys-never-created')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('daemonHouses', () => {
  it('gives houses without workspace roots <UW_DATA_DIR>/workspace, never the working directory', () => {
    const data = join(dir, 'data')
    const file = daemonHouses(
      FileConfig.parse({ houses: { bezalel: { workspaceRoots: ['/srv/repos'] } } }),
      data,
      join(data, 'keys'),
    )
    const houses = resolveHouses(file.houses)
    expect(houses.timmy!.workspaceRoots).toEqual([join(data, 'workspace')])
    expect(houses.ezra!.workspaceRoots).toEqual([join(data, 'workspace')])
    expect(houses.bezalel!.workspaceRoots).toEqual(['/srv/repos'])
    expect(existsSync(join(data, 'workspace'))).toBe(true)
    for (const h of Object.values(houses)) expect(h.workspaceRoots).not.toContain(process.cwd())
  })

  it.each([
    ['the data dir holding the keys', (d: string) => d],
    ['a parent of it', (d: string) => join(d, '..')],
    ['the filesystem root', () => '/'],
  ])('refuses a workspace root that is %s', (_what, rootOf) => {
    const data = join(dir, 'data2')
    const config = FileConfig.parse({ houses: { ezra: { workspaceRoots: [rootOf(data)] } } })
    expect(() => daemonHouses(config, data, join(data, 'keys'))).toThrow(
      /ezra: workspace root .* contains the signing key directory/,
    )
  })

  // Issue 10 (F4): keys.dir elsewhere, but the root still exposed UW_DATA_DIR (redis/password...).
  it.each([
    ['the data dir itself', (d: string) => d],
    ['a parent of it', (d: string) => join(d, '..')],
    ['a directory inside it (not its workspace)', (d: string) => join(d, 'redis')],
  ])('refuses a workspace root that is %s, even with keys.dir elsewhere', (_what, rootOf) => {
    const data = join(dir, 'data3')
    const config = FileConfig.parse({ houses: { ezra: { workspaceRoots: [rootOf(data)] } } })
    expect(() => daemonHouses(config, data, elsewhereKeys)).toThrow(
      /ezra: workspace root .* (contains|lies inside) the data directory/,
    )
  })

  it('accepts the data dir’s own workspace and directories in it', () => {
    const data = join(dir, 'data4')
    const config = FileConfig.parse({
      houses: { ezra: { workspaceRoots: [join(data, 'workspace'), join(data, 'workspace', 'app')] } },
    })
    expect(() => daemonHouses(config, data, elsewhereKeys)).not.toThrow()
  })
})

describe('daemonHouses: where each house works (issue 12)', () => {
  const data = join(dir, 'data-ws')
  const keys = join(data, 'keys')
  it('with a Gitea: checkout for houses without roots, static for explicit roots unless asked', () => {
    const file = daemonHouses(
      FileConfig.parse({
        houses: {
          bezalel: { workspaceRoots: ['/srv/repos'] },
          allegro: { workspaceRoots: ['/srv/a'], workspace: 'checkout' },
        },
      }),
      data,
      keys,
      { checkouts: true },
    )
    const houses = resolveHouses(file.houses)
    expect(houses.timmy!.workspace).toBe('checkout')
    expect(houses.bezalel!.workspace).toBe('static')
    expect(houses.allegro!.workspace).toBe('checkout')
  })
  it('without a Gitea: static, and a house asking for checkouts is refused', () => {
    const houses = resolveHouses(daemonHouses(FileConfig.parse({}), data, keys).houses)
    expect(Object.values(houses).every((h) => h.workspace === 'static')).toBe(true)
    expect(() =>
      daemonHouses(FileConfig.parse({ houses: { ezra: { workspace: 'checkout' } } }), data, keys),
    ).toThrow(/house ezra: workspace: checkout needs a Gitea/)
  })
})
