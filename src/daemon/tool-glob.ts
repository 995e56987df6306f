/**
 * Matches a tool name against a glob of `*` (any run) and `?` (one character). Greedy two-pointer
 * matching with backtracking only to the last `*`: linear in practice, never exponential.
 *
 * @example
 *   globMatch('git_*', 'git_status') // true
 */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0
  let n = 0
  let star = -1
  let mark = 0
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === name[n])) {
      p++
      n++
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++
      mark = n
    } else if (star !== -1) {
      p = star + 1
      n = ++mark
    } else return false
  }
  while (p < pattern.length && pattern[p] === '*') p++
  return p === pattern.length
}

/**
 * Whether any of a house's allowed-tool globs matches the tool.
 *
 * @example
 *   toolAllowed(['git_*', 'file_read'], 'git_push') // true
 */
export function toolAllowed(globs: readonly string[], tool: string): boolean {
  return globs.some((g) => globMatch(g, tool))
}
