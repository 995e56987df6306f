import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FileConfig } from '../../src/config/file-config.js'
import { daemonHouses } from '../../src/workers/house-workspaces.js'
import { resolveHouses } from '../../src/houses/house-policy.js'

const dir = mkdtempSync(join(tmpdir(), 'uw-daemon-ws-'))
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
})
