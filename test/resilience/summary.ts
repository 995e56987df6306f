/**
 * What one resilience test put in and got out. Every test reports the same five counts, so a run
 * reads as one table: `lost` and `duplicates` must be 0; `sent - acknowledged` is what the system
 * refused, on purpose (a 4xx for hostile input) or honestly (a 503 while Redis was down).
 */
export interface Counts {
  /** Inputs the test produced: requests, comment bodies, jobs. */
  sent: number
  /** Inputs the system took on (a 2xx answer, a parse that returned, a tool result). */
  acknowledged: number
  /** Inputs that reached the end of their path (in the events queue, commands found, result as expected). */
  handled: number
  /** Inputs that came out more than once. */
  duplicates: number
  /** Inputs acknowledged but never handled. */
  lost: number
}

/**
 * Formats and prints one test's summary line, `resilience <name>: sent=… acknowledged=… handled=…
 * duplicates=… lost=… | <details>`, on stdout, where `npm run test:resilience` shows it. Returns
 * the line, so a test can also attach it to an assertion message.
 *
 * @example
 *   reportSummary('redis-restart', { sent: 500, acknowledged: 412, handled: 412, duplicates: 0, lost: 0 },
 *     { refused503: 88 })
 */
export function reportSummary(
  name: string,
  counts: Counts,
  details: Record<string, string | number> = {},
): string {
  const main = (Object.keys(counts) as (keyof Counts)[]).map((k) => `${k}=${counts[k]}`).join(' ')
  const extra = Object.entries(details)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
  const line = `resilience ${name}: ${main}${extra ? ` | ${extra}` : ''}`
  // Not console: the suite's summary is product output of the test run, and vitest would prefix
  // console lines with the test's name and buffer them.
  process.stdout.write(`${line}\n`)
  return line
}

/** A small seeded PRNG (mulberry32), so every fuzz run can be replayed from the seed it prints. */
export { seededRandom } from '../../src/triage/model/seeded-random.js'

/** The seed of this run: UW_FUZZ_SEED when set (to replay a failure), else a fresh one. */
export function fuzzSeed(): number {
  const given = Number(process.env.UW_FUZZ_SEED)
  return Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1
}
