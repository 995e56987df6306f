/** The label value every name outside a metric's known set becomes. */
export const OTHER = 'other'

/**
 * A label value limited to a known set: anything else (a tool a newer router queued, a house
 * another process is configured with) becomes `other`, so no input can grow a metric's series.
 *
 * @example
 *   const tool = boundedLabel(['git_status', 'agent.ask'])
 *   tool('git_status') // 'git_status'
 *   tool('made-up') // 'other'
 */
export function boundedLabel(known: Iterable<string>): (value: string) => string {
  const set = new Set(known)
  return (value) => (set.has(value) ? value : OTHER)
}
