import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import type { FileConfig } from '../config/file-config.js'
import { resolveHouses } from '../houses/house-policy.js'
import { isInside } from '../tools/workspace.js'

/** Where the daemon's houses work when the config names no workspace roots. */
export function defaultDaemonWorkspace(dataDir: string): string {
  return resolve(dataDir, 'workspace')
}

/**
 * The houses config the daemon runs with. The library's default workspace root is the working
 * directory, which for `npm start` is the bot's own install (code, node_modules, .env, keys):
 * a writer's `/run file_write` there could plant code the bot runs next. So in the daemon a
 * house without `workspaceRoots` works in `<UW_DATA_DIR>/workspace` instead, and a root that
 * would expose the signing keys is refused at start-up.
 *
 * @example
 *   const file = daemonHouses(config.file, '.data', '.data/keys') // houses get ['/abs/.data/workspace']
 */
export function daemonHouses(file: FileConfig, dataDir: string, keyDir: string): FileConfig {
  const houses = { ...file.houses }
  const workspace = defaultDaemonWorkspace(dataDir)
  for (const [name, policy] of Object.entries(resolveHouses(file.houses))) {
    const roots = policy.workspaceRoots.length > 0 ? policy.workspaceRoots : [workspace]
    for (const root of roots) {
      if (isInside(resolve(keyDir), resolve(root)))
        throw new Error(
          `house ${name}: workspace root ${root} contains the signing key directory ${resolve(keyDir)}; ` +
            'set keys.dir outside every workspace root, or narrow houses.' +
            `${name}.workspaceRoots`,
        )
    }
    if (policy.workspaceRoots.length === 0) {
      mkdirSync(workspace, { recursive: true })
      houses[name] = { ...houses[name], workspaceRoots: [workspace] }
    }
  }
  return { ...file, houses }
}
