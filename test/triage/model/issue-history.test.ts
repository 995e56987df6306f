import { describe, expect, it } from 'vitest'
import {
  collectTrainingExamples,
  type HistoryIssue,
  type ListIssues,
} from '../../../src/triage/model/issue-history.js'

const issue = (n: number, labels: string[] = ['type/bug']): HistoryIssue => ({
  number: n,
  title: `t${n}`,
  body: 'b',
  labels,
})

function pagesOf(pages: HistoryIssue[][]): { list: ListIssues; calls: number[] } {
  const calls: number[] = []
  return {
    calls,
    list: async (_repo, q) => {
      calls.push(q.page)
      return pages[q.page - 1] ?? []
    },
  }
}

describe('collectTrainingExamples', () => {
  it('stops on an empty page', async () => {
    const { list, calls } = pagesOf([
      [issue(1), issue(2)],
      [issue(3), issue(4)],
    ])
    const r = await collectTrainingExamples(list, 'o/r', { limit: 2 })
    expect(r.stoppedBecause).toBe('empty')
    expect(calls).toEqual([1, 2, 3])
    expect(r.examples.map((e) => e.title)).toEqual(['t1', 't2', 't3', 't4'])
  })

  it('stops when a server ignores paging and repeats the same page', async () => {
    const same = [issue(1), issue(2)]
    const calls: number[] = []
    const list: ListIssues = async (_repo, q) => {
      calls.push(q.page)
      return same
    }
    const r = await collectTrainingExamples(list, 'o/r', { limit: 2 })
    expect(r.stoppedBecause).toBe('repeated')
    expect(calls).toEqual([1, 2])
    expect(r.examples).toHaveLength(2)
  })

  it('stops on a short page without asking for more', async () => {
    const { list, calls } = pagesOf([[issue(1), issue(2)], [issue(3)]])
    expect((await collectTrainingExamples(list, 'o/r', { limit: 2 })).stoppedBecause).toBe('short')
    expect(calls).toEqual([1, 2])
  })

  it('never reads more than maxPages', async () => {
    let n = 0
    const list: ListIssues = async () => [issue(++n), issue(++n)]
    const r = await collectTrainingExamples(list, 'o/r', { limit: 2, maxPages: 5 })
    expect(r).toMatchObject({ stoppedBecause: 'cap', pages: 5 })
    expect(n).toBe(10)
  })

  it('keeps issues with exactly one type label and skips pull requests', async () => {
    const { list } = pagesOf([
      [
        issue(1, ['type/bug', 'priority/p1']),
        issue(2, ['enhancement']),
        issue(3, ['type/bug', 'type/feature']),
        issue(4, ['wontfix']),
        { ...issue(5), pull_request: {} },
        { number: 6, title: 't6', labels: [{ name: 'type/question' }] },
      ],
    ])
    const r = await collectTrainingExamples(list, 'o/r', { limit: 50 })
    expect(r.examples.map((e) => [e.title, e.label])).toEqual([
      ['t1', 'bug'],
      ['t2', 'feature'],
      ['t6', 'question'],
    ])
  })
})
