/** One sample of a Prometheus text exposition: metric name, labels, value. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/**
 * The samples of a `/metrics` page (text format 0.0.4), comments skipped.
 *
 * @example
 *   samples(text).filter((s) => s.name === 'uw_house_workers_alive')
 */
export function samples(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const m = LINE.exec(line)
    if (!m) return []
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(LABEL))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1')
    return [{ name: m[1] as string, labels, value: Number(m[3]) }]
  })
}

/** The value of the one sample named `name` whose labels include `labels`; undefined if none. */
export function valueOf(
  all: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value
}
