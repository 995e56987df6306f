import type { RepoPermission } from '../gitea/port.js'

/** A collaborator's permission from Gitea, or `sovereign` for the configured sovereigns. */
export type PermissionLevel = RepoPermission | 'sovereign'

/** Who may run a command: Gitea's collaborator permission, or the configured sovereigns. */
export type Permission = 'read' | 'write' | 'admin' | 'sovereign'

const HAS: Record<PermissionLevel, number> = { none: 0, read: 1, write: 2, admin: 3, owner: 3, sovereign: 4 }
const NEEDS: Record<Permission, number> = { read: 1, write: 2, admin: 3, sovereign: 4 }

/**
 * Whether someone with `level` may run a command needing `needed`. Sovereigns may run everything;
 * owners count as admins.
 *
 * @example
 *   permits('write', 'admin') // false
 */
export function permits(level: PermissionLevel, needed: Permission): boolean {
  return HAS[level] >= NEEDS[needed]
}

/** Words for "who can run this", used in denial replies and in the help. */
export const PERMISSION_TEXT: Record<Permission, string> = {
  read: 'anyone who can comment here',
  write: 'collaborators with write access (or admins, owners and sovereigns)',
  admin: 'repository admins and owners (or sovereigns)',
  sovereign: 'the configured sovereigns only',
}
