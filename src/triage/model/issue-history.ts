import { typeLabelFor, typeClass } from '../../../labels/names.js'
import type { TrainingExample } from './triage-model.js'

/** The fields of a listed issue that training reads (a subset of Gitea's `Issue`). */
export interface HistoryIssue {
  number: number
  title: string
  body?: string | null
  labels?: readonly (string | { name: string })[] | null
  /** Set on pull requests; they are skipped. */
  pull_request?: unknown
}

/** A page of closed issues, through the Gitea port (`state: 'closed'`). */
export type ListIssues = (
  repo: string,
  query: { state: 'closed'; page: number; limit: number },
) => Promise<readonly HistoryIssue[]>

export interface CollectOptions {
  /** Page size asked for. */
  limit?: number
  /** Hard cap on pages read, whatever the server answers. */
  maxPages?: number
}

export interface CollectedHistory {
  examples: TrainingExample[]
  pages: number
  /** Why paging stopped: an empty page, a page with nothing new (servers that ignore paging), a short last page, or the cap. */
  stoppedBecause: 'empty' | 'repeated' | 'short' | 'cap'
}

/**
 * Reads a repo's closed issues page by page and keeps those with exactly one type label as
 * training examples (`type/bug` -> class `bug`). Paging is defensive: it stops on an empty page,
 * on a page whose issues were all seen before (some Gitea endpoints ignore `page`), on a short
 * page, and after `maxPages` in any case.
 *
 * @example
 * const { examples } = await collectTrainingExamples((repo, q) => port.listIssues(repo, q), 'org/app')
 */
export async function collectTrainingExamples(
  listIssues: ListIssues,
  repo: string,
  { limit = 50, maxPages = 40 }: CollectOptions = {},
): Promise<CollectedHistory> {
  const seen = new Set<number>()
  const examples: TrainingExample[] = []
  for (let page = 1; page <= maxPages; page++) {
    const issues = await listIssues(repo, { state: 'closed', page, limit })
    if (issues.length === 0) return { examples, pages: page, stoppedBecause: 'empty' }
    const fresh = issues.filter((i) => !seen.has(i.number))
    if (fresh.length === 0) return { examples, pages: page, stoppedBecause: 'repeated' }
    for (const issue of fresh) {
      seen.add(issue.number)
      if (issue.pull_request) continue
      const types = new Set(
        (issue.labels ?? [])
          .map((l) => typeLabelFor(typeof l === 'string' ? l : l.name))
          .filter((t) => t !== undefined),
      )
      if (types.size !== 1) continue
      examples.push({ title: issue.title, body: issue.body ?? '', label: typeClass([...types][0]!) })
    }
    if (issues.length < limit) return { examples, pages: page, stoppedBecause: 'short' }
  }
  return { examples, pages: maxPages, stoppedBecause: 'cap' }
}
