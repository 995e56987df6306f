import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseCsv } from '../../../src/triage/model/parse-csv.js'
import { readExamples } from '../../../src/triage/model/read-examples.js'

describe('parseCsv', () => {
  it.each([
    ['plain', 'a,b\n1,2\n', [{ a: '1', b: '2' }]],
    ['quoted comma and doubled quotes', 'a,b\n1,"x, ""y"""\n', [{ a: '1', b: 'x, "y"' }]],
    ['newlines inside quotes', 'a,b\n"l1\nl2\r\nl3",2\n', [{ a: 'l1\nl2\r\nl3', b: '2' }]],
    [
      'CRLF records and BOM',
      '\ufeffa,b\r\n1,2\r\n3,4',
      [
        { a: '1', b: '2' },
        { a: '3', b: '4' },
      ],
    ],
    ['empty fields', 'a,b,c\n,,\n', [{ a: '', b: '', c: '' }]],
    ['header only', 'a,b\n', []],
  ])('parses %s', (_name, text, rows) => {
    expect(parseCsv(text)).toEqual(rows)
  })

  it.each([
    ['an unterminated quote', 'a,b\n1,"open\n', /unterminated/],
    ['a short record', 'a,b\n1\n', /record 2 has 1 fields/],
  ])('rejects %s', (_name, text, error) => {
    expect(() => parseCsv(text)).toThrow(error)
  })
})

describe('readExamples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uw-triage-'))

  it('reads JSONL with label or labels (strings or objects) and an optional repo', () => {
    const path = join(dir, 'x.jsonl')
    writeFileSync(
      path,
      [
        { repo: 'o/r', title: 't1', body: 'b', label: 'bug' },
        { title: 't2', body: null, labels: [{ name: 'type/feature' }, 'x'] },
        { title: 't3', labels: ['question'] },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    )
    expect(readExamples(path)).toEqual([
      { repo: 'o/r', title: 't1', body: 'b', label: 'bug' },
      { repo: '', title: 't2', body: '', label: 'type/feature' },
      { repo: '', title: 't3', body: '', label: 'question' },
    ])
  })

  it.each([
    ['a row without label', '{"title":"t"}\n', /line 1: needs label/],
    ['a line that is not JSON', '{"title":"t","label":"bug"}\nnope\n', /line 2: not JSON/],
  ])('rejects JSONL with %s', (_name, text, error) => {
    const path = join(dir, `bad-${Math.random()}.jsonl`)
    writeFileSync(path, text)
    expect(() => readExamples(path)).toThrow(error)
  })

  it('reads the CSV columns repo,created_at,label,title,body', () => {
    const path = join(dir, 'x.csv')
    writeFileSync(path, 'repo,created_at,label,title,body\no/r,2023-01-01,bug,"A, b","line1\n""q"""\n')
    expect(readExamples(path)).toEqual([{ repo: 'o/r', title: 'A, b', body: 'line1\n"q"', label: 'bug' }])
  })
})
