import { parseArgs } from 'node:util'
import { decideTriage } from '../triage/model/decide-triage.js'
import { evaluateTriage, priorFromRows, type TriageEvaluation } from '../triage/model/evaluate-triage.js'
import { readExamples } from '../triage/model/read-examples.js'
import { loadShippedPrior } from '../triage/model/shipped-prior.js'
import type { TriageModel } from '../triage/model/triage-model.js'
import { UsageError, type CliCommand } from './cli-command.js'
import { runTriageTrain } from './triage-train.js'

const usage = `usage:
  uni-wizard triage eval --train <file> --test <file> [--prior shipped|train|none] [--json]
  uni-wizard triage explain [--no-prior] <text>
  uni-wizard triage train --repo owner/name [--max-pages n]

eval     For each repo present in both files, adapt a model to the repo's --train rows on top
         of a prior and report macro F1 and per-label precision/recall/F1 on its --test rows,
         the mean over repos, training time per repo and classification time per issue.
         Files: CSV with repo,created_at,label,title,body, or JSONL {repo?, title, body, label|labels}.
         --prior shipped (default): the prior bundled in models/triage-prior.json, trained on the
           NLBSE'24 training split; train: a prior trained on the --train file; none: no prior.
         --json prints { perRepo, meanMacroF1, trainMsPerRepo, classifyMsPerIssue }.
explain  Prints the triage decision for a text (first line = title) with its reasons, using the
         shipped prior as the type model.
train    Pulls the repo's closed issues with exactly one type label (safe paging, at most
         --max-pages pages of 50, default 40) plus the corrections people made, trains the
         repo's model on top of the shipped prior and stores it in Redis, where the bot loads it.
         Needs GITEA_URL, GITEA_TOKEN and REDIS_URL (the bot's Redis).`

function runEval(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      train: { type: 'string' },
      test: { type: 'string' },
      prior: { type: 'string', default: 'shipped' },
      json: { type: 'boolean', default: false },
    },
  })
  if (!values.train || !values.test) throw new UsageError('eval needs --train and --test')
  const train = readExamples(values.train)
  const test = readExamples(values.test)
  let prior: TriageModel | undefined
  if (values.prior === 'shipped') prior = loadShippedPrior()
  else if (values.prior === 'train') prior = priorFromRows(train)
  else if (values.prior !== 'none')
    throw new UsageError(`--prior must be shipped, train or none, not "${values.prior}"`)
  const result = evaluateTriage(train, test, prior)
  if (Object.keys(result.perRepo).length === 0) throw new Error('no repo is present in both files')
  if (values.json) console.log(JSON.stringify(jsonShape(result)))
  else printTable(result, values.prior)
  return 0
}

function jsonShape(r: TriageEvaluation): object {
  return {
    perRepo: Object.fromEntries(
      Object.entries(r.perRepo).map(([repo, e]) => [repo, { macroF1: e.macroF1, labels: e.labels }]),
    ),
    meanMacroF1: r.meanMacroF1,
    trainMsPerRepo: r.trainMsPerRepo,
    classifyMsPerIssue: r.classifyMsPerIssue,
  }
}

function printTable(r: TriageEvaluation, prior: string): void {
  const f = (n: number): string => n.toFixed(3)
  console.log(`prior: ${prior}`)
  for (const [repo, e] of Object.entries(r.perRepo)) {
    console.log(
      `\n${repo || '(no repo)'}  macro F1 ${f(e.macroF1)}  (${e.testCount} test issues, trained in ${e.trainMs.toFixed(0)} ms)`,
    )
    console.log(
      `  ${'label'.padEnd(12)} ${'P'.padStart(6)} ${'R'.padStart(6)} ${'F1'.padStart(6)} ${'n'.padStart(5)}`,
    )
    for (const [label, s] of Object.entries(e.labels))
      console.log(
        `  ${label.padEnd(12)} ${f(s.precision).padStart(6)} ${f(s.recall).padStart(6)} ${f(s.f1).padStart(6)} ${String(s.support).padStart(5)}`,
      )
  }
  console.log(`\nmean macro F1 over ${Object.keys(r.perRepo).length} repos: ${f(r.meanMacroF1)}`)
  console.log(
    `training: ${r.trainMsPerRepo.toFixed(0)} ms per repo; classification: ${r.classifyMsPerIssue.toFixed(3)} ms per issue`,
  )
}

function runExplain(argv: string[]): number {
  const noPrior = argv.includes('--no-prior')
  const text = argv
    .filter((a) => a !== '--no-prior')
    .join(' ')
    .trim()
  if (!text) throw new UsageError('explain needs a text')
  const [title = '', ...rest] = text.split('\n')
  const decision = decideTriage({ title, body: rest.join('\n') }, noPrior ? undefined : loadShippedPrior())
  console.log(`labels: ${decision.labels.join(', ')}`)
  console.log(
    `type: ${decision.type ?? '(unknown)'} via ${decision.typeSource}, confidence ${decision.confidence.toFixed(2)}${decision.needsTriage ? ' -> needs triage' : ''}`,
  )
  for (const r of decision.reasons.type) console.log(`  - ${r}`)
  console.log(`priority: ${decision.priority}`)
  for (const r of decision.reasons.priority) console.log(`  - ${r}`)
  console.log(`house: ${decision.house}`)
  for (const r of decision.reasons.house) console.log(`  - ${r}`)
  return 0
}

/** `uni-wizard triage eval|explain|train`. */
export const triageCommand: CliCommand = {
  name: 'triage',
  summary: 'Train a repo’s issue classifier, evaluate it, or explain a triage decision',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv
    if (sub === 'eval') return runEval(rest)
    if (sub === 'explain') return runExplain(rest)
    if (sub === 'train') return runTriageTrain(rest, process.env, (line) => console.log(line))
    throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand')
  },
}
