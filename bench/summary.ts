import type { ScenarioResult, Target } from './scenario.js'

export interface Stat {
  min: number
  median: number
  max: number
}

export interface MetricSummary {
  key: string
  label: string
  unit: string
  better: 'higher' | 'lower'
  subject: Stat
  baseline: Stat
  /** subject median / baseline median. */
  ratio: number
}

export interface TargetResult extends Target {
  actual: number
  pass: boolean
}

/** What bench/results/<scenario>-<timestamp>.json holds. */
export interface ScenarioReport {
  scenario: string
  description: string
  startedAt: string
  durationSeconds: number
  node: string
  host: { cpus: number; platform: string }
  result: ScenarioResult
  summary: MetricSummary[]
  targets: TargetResult[]
}

function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! }
}

/** min/median/max per metric for subject and baseline, and the ratio of the medians. */
export function summarise(result: ScenarioResult): MetricSummary[] {
  return result.metrics.map((m) => {
    const subject = stat(result.rounds.map((r) => r.subject[m.key]!))
    const baseline = stat(result.rounds.map((r) => r.baseline[m.key]!))
    return { ...m, subject, baseline, ratio: subject.median / baseline.median }
  })
}

/** Checks each target on the medians. */
export function checkTargets(result: ScenarioResult, summary: MetricSummary[]): TargetResult[] {
  return result.targets.map((t) => {
    const m = summary.find((s) => s.key === t.metric)
    if (!m) throw new Error(`target names unknown metric ${t.metric}`)
    const actual = t.kind === 'ratio-min' || t.kind === 'ratio-max' ? m.ratio : m.subject.median
    const pass =
      t.kind === 'max' ? actual < t.value : t.kind === 'ratio-max' ? actual <= t.value : actual >= t.value
    return { ...t, actual, pass }
  })
}

const fmt = (n: number) =>
  Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2)

/** A Markdown section for one scenario report. */
export function markdown(report: ScenarioReport): string {
  const lines = [
    `## ${report.scenario}`,
    '',
    report.description,
    '',
    `Run ${report.startedAt} · ${report.result.rounds.length} rounds · Node ${report.node} · ${report.host.cpus} CPUs. ` +
      `Subject: ${report.result.subject}. Baseline (same run): ${report.result.baseline}.`,
    '',
    '| metric | unit | subject min / median / max | baseline min / median / max | ratio |',
    '|---|---|---|---|---|',
    ...report.summary.map(
      (m) =>
        `| ${m.label} | ${m.unit} | ${fmt(m.subject.min)} / **${fmt(m.subject.median)}** / ${fmt(m.subject.max)} | ` +
        `${fmt(m.baseline.min)} / ${fmt(m.baseline.median)} / ${fmt(m.baseline.max)} | ${m.ratio.toFixed(2)}× |`,
    ),
    '',
    ...report.targets.map(
      (t) => `- ${t.pass ? 'PASS' : 'FAIL'}: ${t.description} (measured ${fmt(t.actual)})`,
    ),
    '',
    `Settings: ${Object.entries(report.result.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    '',
    ...(report.result.tables ?? []).flatMap((t) => [
      `${t.title}`,
      '',
      `| ${t.header.join(' | ')} |`,
      `|${t.header.map(() => '---').join('|')}|`,
      ...t.rows.map((r) => `| ${r.map((v) => (typeof v === 'number' ? fmt(v) : v)).join(' | ')} |`),
      '',
    ]),
  ]
  return lines.join('\n')
}
