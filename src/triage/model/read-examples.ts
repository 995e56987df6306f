import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { parseCsv } from './parse-csv.js'

/** One labelled issue. `repo` is optional: files without it form a single unnamed repo. */
export const LabelledIssue = z.object({
  repo: z.string().default(''),
  title: z.string(),
  body: z
    .string()
    .nullish()
    .transform((b) => b ?? ''),
  label: z.string().min(1),
})
export type LabelledIssue = z.infer<typeof LabelledIssue>

const JsonlRow = z
  .object({
    repo: z.string().optional(),
    title: z.string(),
    body: z.string().nullish(),
    label: z.string().min(1).optional(),
    labels: z.array(z.union([z.string(), z.object({ name: z.string() })])).optional(),
  })
  .refine((r) => r.label !== undefined || (r.labels?.length ?? 0) > 0, { message: 'needs label or labels' })

/**
 * Reads labelled issues from CSV (`repo,created_at,label,title,body`) or JSONL
 * (`{repo?, title, body, label | labels}`; with `labels`, the first is used), chosen by extension
 * (`.jsonl`/`.ndjson`) or content. Throws with the row number on a bad row.
 *
 * @example
 * const rows = readExamples('data/train.csv')
 */
export function readExamples(path: string): LabelledIssue[] {
  const text = readFileSync(path, 'utf8')
  const jsonl = /\.(jsonl|ndjson)$/i.test(path) || (!/\.csv$/i.test(path) && text.trimStart().startsWith('{'))
  return jsonl ? parseJsonl(text, path) : parseCsvExamples(text, path)
}

function parseCsvExamples(text: string, path: string): LabelledIssue[] {
  return parseCsv(text).map((row, i) => {
    const parsed = LabelledIssue.safeParse(row)
    if (!parsed.success) throw new Error(`${path}: record ${i + 2}: ${parsed.error.issues[0]?.message}`)
    return parsed.data
  })
}

function parseJsonl(text: string, path: string): LabelledIssue[] {
  const out: LabelledIssue[] = []
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return
    let json: unknown
    try {
      json = JSON.parse(line)
    } catch {
      throw new Error(`${path}: line ${i + 1}: not JSON`)
    }
    const parsed = JsonlRow.safeParse(json)
    if (!parsed.success) throw new Error(`${path}: line ${i + 1}: ${parsed.error.issues[0]?.message}`)
    const r = parsed.data
    const first = r.labels?.[0]
    const label = r.label ?? (typeof first === 'string' ? first : first!.name)
    out.push({ repo: r.repo ?? '', title: r.title, body: r.body ?? '', label })
  })
  return out
}
