import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { toyIssues } from './toy-data.js'

const run = promisify(execFile)
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/run-main.ts', 'triage', ...args], { cwd: process.cwd() })

const dir = mkdtempSync(join(tmpdir(), 'uw-triage-cli-'))
const csv = (rows: ReturnType<typeof toyIssues>): string =>
  'repo,created_at,label,title,body\n' +
  rows
    .map((r) =>
      [r.repo, '2024-01-01', r.label, r.title, r.body].map((f) => `"${f.replace(/"/g, '""')}"`).join(','),
    )
    .join('\n')

beforeAll(() => {
  const rows = toyIssues()
  const train = rows.filter((_, i) => i % 3 !== 0)
  const test = rows.filter((_, i) => i % 3 === 0)
  writeFileSync(join(dir, 'train.csv'), csv(train))
  writeFileSync(join(dir, 'test.csv'), csv(test))
  writeFileSync(
    join(dir, 'test.jsonl'),
    test
      .map((r) => JSON.stringify({ repo: r.repo, title: r.title, body: r.body, labels: [r.label] }))
      .join('\n'),
  )
})

describe('uni-wizard triage eval', () => {
  it.each([
    ['CSV, prior from --train', 'test.csv', 'train'],
    ['JSONL, shipped prior', 'test.jsonl', 'shipped'],
  ])('gives the same numbers twice (%s)', async (_name, testFile, prior) => {
    const args = [
      'eval',
      '--train',
      join(dir, 'train.csv'),
      '--test',
      join(dir, testFile),
      '--prior',
      prior,
      '--json',
    ]
    const [a, b] = [JSON.parse((await cli(...args)).stdout), JSON.parse((await cli(...args)).stdout)]
    expect(Object.keys(a).sort()).toEqual(['classifyMsPerIssue', 'meanMacroF1', 'perRepo', 'trainMsPerRepo'])
    expect(Object.keys(a.perRepo)).toEqual(['acme/app', 'acme/lib'])
    expect(Object.keys(a.perRepo['acme/app'].labels)).toEqual(['bug', 'feature', 'question'])
    expect(a.perRepo['acme/app'].labels.bug).toEqual(
      expect.objectContaining({
        precision: expect.any(Number),
        recall: expect.any(Number),
        f1: expect.any(Number),
      }),
    )
    expect(a.meanMacroF1).toBeGreaterThan(0.5)
    expect(a.perRepo).toEqual(b.perRepo)
    expect(a.meanMacroF1).toBe(b.meanMacroF1)
  })

  it('prints a readable table by default', async () => {
    const { stdout } = await cli('eval', '--train', join(dir, 'train.csv'), '--test', join(dir, 'test.csv'))
    expect(stdout).toContain('prior: shipped')
    expect(stdout).toMatch(/mean macro F1 over 2 repos: \d\.\d{3}/)
    expect(stdout).toMatch(/ms per issue/)
  })

  it('exits 2 with usage on missing files', async () => {
    await expect(cli('eval', '--train', join(dir, 'train.csv'))).rejects.toMatchObject({ code: 2 })
  })
})

describe('uni-wizard triage explain', () => {
  it('prints the labels and reasons', async () => {
    const { stdout } = await cli('explain', 'App crashes with data loss after upgrade')
    expect(stdout).toMatch(/^labels: type\/bug, priority\/p0/m)
    expect(stdout).toContain('crash or data loss')
  })
})
