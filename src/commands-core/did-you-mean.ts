/** Longest input compared; anything longer is not a typo of a short name. */
const MAX_LEN = 64

/**
 * Levenshtein distance, two rows, O(a·b) on inputs capped at 64 characters.
 *
 * @example
 *   editDistance('stauts', 'status') // 2
 */
export function editDistance(a: string, b: string): number {
  const s = a.slice(0, MAX_LEN)
  const t = b.slice(0, MAX_LEN)
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j)
  for (let i = 1; i <= s.length; i++) {
    const cur = [i]
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost)
    }
    prev = cur
  }
  return prev[t.length] as number
}

/**
 * The candidates closest to `input` (case-insensitive), best first, within a distance that grows
 * with the input's length (1 for short names, up to a third of the length). Empty when nothing is close.
 *
 * @example
 *   didYouMean('stauts', ['status', 'run', 'help']) // ['status']
 */
export function didYouMean(input: string, candidates: readonly string[], limit = 3): string[] {
  if (input.length > MAX_LEN) return []
  const needle = input.toLowerCase()
  const max = Math.max(1, Math.floor(needle.length / 3))
  return candidates
    .map((c) => ({ c, d: editDistance(needle, c.toLowerCase()) }))
    .filter((x) => x.d <= max && x.d > 0)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, limit)
    .map((x) => x.c)
}
