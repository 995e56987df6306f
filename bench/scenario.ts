/** How a metric is judged: throughput wants higher, latency lower. */
export interface MetricSpec {
  key: string
  label: string
  unit: string
  better: 'higher' | 'lower'
}

/** One round: the subject's measurements and the same-run baseline's, by metric key. */
export interface Round {
  subject: Record<string, number>
  baseline: Record<string, number>
}

/**
 * A target the runner checks on medians: `ratio-min`/`ratio-max` compare subject/baseline (at
 * least / at most), `max`/`min` compare the subject's absolute value.
 */
export interface Target {
  metric: string
  kind: 'ratio-min' | 'ratio-max' | 'max' | 'min'
  value: number
  description: string
}

export interface ScenarioResult {
  /** What the subject and the baseline are, in a few words each. */
  subject: string
  baseline: string
  metrics: MetricSpec[]
  rounds: Round[]
  targets: Target[]
  /** Free-form facts about the run (payload size, connections, durations). */
  settings: Record<string, string | number>
  /** Extra tables for the report (e.g. a latency breakdown per hop), rendered after the metrics. */
  tables?: ExtraTable[]
}

/** A small table printed under a scenario's metrics. */
export interface ExtraTable {
  title: string
  header: string[]
  rows: (string | number)[][]
}

export interface ScenarioOptions {
  /** Rounds to run; each measures subject and baseline back to back. */
  rounds: number
  /** Prints progress for a person watching. */
  progress(line: string): void
}

/** A named benchmark. Listed in bench/scenarios/index.ts. */
export interface Scenario {
  name: string
  description: string
  run(options: ScenarioOptions): Promise<ScenarioResult>
}
