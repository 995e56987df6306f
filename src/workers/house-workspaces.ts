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
 * would expose the signing keys or the data dir (Redis password, webhook secret) is refused at
 * start-up: one that contains either, or lies in the data dir outside its `workspace`.
 *
 * It also settles each house's `workspace`: as configured, else `checkout` when the bot has a
 * Gitea to check out from (`opts.checkouts`) and the house sets no `workspaceRoots`, else
 * `static`. A house that asks for checkouts without a Gitea is refused.
 *
 * @example
 *   const file = daemonHouses(config.file, '.data', '.data/keys') // houses get ['/abs/.data/workspace']
 */
export function daemonHouses(
  file: FileConfig,
  dataDir: string,
  keyDir: string,
  opts: { checkouts?: boolean } = {},
): FileConfig {
  const houses = { ...file.houses }
  const workspace = defaultDaemonWorkspace(dataDir)
  for (const [name, policy] of Object.entries(resolveHouses(file.houses))) {
    // Decided before the static roots are filled in below: an explicit `workspaceRoots` keeps a
    // house static unless it asks for checkouts.
    const mode =
      policy.workspace ?? (opts.checkouts && policy.workspaceRoots.length === 0 ? 'checkout' : 'static')
    if (mode === 'checkout' && !opts.checkouts)
      throw new Error(
        `house ${name}: workspace: checkout needs a Gitea to check out from (GITEA_URL, or the sandbox); ` +
          `set houses.${name}.workspace: static`,
      )
    houses[name] = { ...houses[name], workspace: mode }
    const roots = policy.workspaceRoots.length > 0 ? policy.workspaceRoots : [workspace]
    for (const root of roots) {
      if (isInside(resolve(keyDir), resolve(root)))
        throw new Error(
          `house ${name}: workspace root ${root} contains the signing key directory ${resolve(keyDir)}; ` +
            'set keys.dir outside every workspace root, or narrow houses.' +
            `${name}.workspaceRoots`,
        )
      // The data dir holds the Redis password file, sandbox.json and the webhook secret: a root
      // that contains it, or lies in it anywhere but the workspace the daemon makes there, would
      // let file_read show them.
      const data = resolve(dataDir)
      const inData = isInside(resolve(root), data) && !isInside(resolve(root), workspace)
      if (isInside(data, resolve(root)) || inData)
        throw new Error(
          `house ${name}: workspace root ${root} ${inData ? 'lies inside' : 'contains'} the data directory ${data} ` +
            `(UW_DATA_DIR: Redis password, webhook secret, sandbox state); use ${workspace} or a ` +
            `directory outside ${data}, in houses.${name}.workspaceRoots`,
        )
    }
    // A checkout house keeps the static root too: it is where a job without a checkout (queued
    // before checkouts existed) runs.
    if (policy.workspaceRoots.length === 0) {
      mkdirSync(workspace, { recursive: true })
      houses[name] = { ...houses[name], workspaceRoots: [workspace] }
    }
  }
  return { ...file, houses }
}
