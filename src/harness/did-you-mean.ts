import { editDistance } from '../commands-core/did-you-mean.js'

/**
 * The closest known tool name, when it is close enough to be a typo. The harness is more lenient
 * with short names than slash commands are (a transposition in a 4-letter tool name still counts).
 *
 * @example
 *   didYouMean('git_stauts', ['git_status', 'git_log']) // 'git_status'
 */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Infinity
  for (const k of known) {
    const d = editDistance(name, k)
    if (d < bestD) {
      best = k
      bestD = d
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined
}
