// Builds models/triage-prior.json, the general issue-type prior shipped with uni-wizard.
//   npx tsx scripts/build-triage-prior.ts [--data /work/shared/datasets/nlbse24-issues-train.csv] [--out models/triage-prior.json]
// Training split only: the prior must never see test data.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import { priorFromRows } from '../src/triage/model/evaluate-triage.js'
import { readExamples } from '../src/triage/model/read-examples.js'
import { shippedPriorPath } from '../src/triage/model/shipped-prior.js'

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '/work/shared/datasets/nlbse24-issues-train.csv' },
    out: { type: 'string', default: shippedPriorPath() },
  },
})
const rows = readExamples(values.data)
const started = performance.now()
const prior = priorFromRows(rows)
const text = prior.serialize('i8')
mkdirSync(dirname(values.out), { recursive: true })
writeFileSync(values.out, text + '\n')
console.log(
  `prior: ${rows.length} examples, classes ${prior.classes.join('/')}, trained in ${((performance.now() - started) / 1000).toFixed(1)} s, ${(text.length / 1e6).toFixed(2)} MB -> ${values.out}`,
)
