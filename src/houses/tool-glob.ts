const cache = new Map<string, RegExp>()

function globRegExp(glob: string): RegExp {
  let re = cache.get(glob)
  if (!re) {
    const body = glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')
    re = new RegExp(`^${body}$`)
    cache.set(glob, re)
  }
  return re
}

/**
 * Whether a tool name matches a house's `tools` globs. `!glob` entries exclude and win over includes.
 *
 * @example
 *   toolMatches('git_push', ['git_*', '!git_push']) // false
 */
export function toolMatches(tool: string, globs: readonly string[]): boolean {
  let included = false
  for (const g of globs) {
    if (g.startsWith('!')) {
      if (globRegExp(g.slice(1)).test(tool)) return false
    } else if (!included && globRegExp(g).test(tool)) {
      included = true
    }
  }
  return included
}
