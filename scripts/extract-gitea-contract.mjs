#!/usr/bin/env node
// Extracts the slice of Gitea's swagger the Gitea double serves into a vendored file
// (src/gitea/double/gitea-contract.v1.26.3.json), so the contract check runs on any machine.
// Usage: node scripts/extract-gitea-contract.mjs [/path/to/shared/gitea]
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = process.argv[2] ?? '/work/shared/gitea'
const swagger = JSON.parse(readFileSync(join(dir, 'swagger.v1.26.3.json'), 'utf8'))
const older = JSON.parse(readFileSync(join(dir, 'swagger.v1.23.1.json'), 'utf8'))
const structs = JSON.parse(readFileSync(join(dir, 'struct-fields.v1.26.3.json'), 'utf8')).structs

// Every operation the adapter sends and the double answers.
const SERVED = [
  'getVersion',
  'userGetCurrent',
  'issueListIssues',
  'issueCreateIssue',
  'issueGetIssue',
  'issueEditIssue',
  'issueGetComments',
  'issueCreateComment',
  'issueGetComment',
  'issueEditComment',
  'issuePostCommentReaction',
  'issuePostIssueReaction',
  'issueListLabels',
  'issueCreateLabel',
  'issueEditLabel',
  'issueDeleteLabel',
  'issueAddLabel',
  'issueRemoveLabel',
  'repoGetRepoPermissions',
  'orgIsMember',
  'orgIsPublicMember',
  'repoCreateStatus',
  'repoListStatuses',
  'repoGetPullRequest',
  'repoGetPullRequestFiles',
  'repoGet',
  'repoGetBranch',
  'repoListPullRequests',
  'repoCreatePullRequest',
  'repoListPullReviews',
  'repoCreatePullReview',
]

const allOperations = {}
const served = {}
for (const [path, item] of Object.entries(swagger.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (typeof op !== 'object' || !op.operationId) continue
    allOperations[`${method.toUpperCase()} ${path}`] = op.operationId
    if (SERVED.includes(op.operationId))
      served[op.operationId] = { method: method.toUpperCase(), path, ...op }
  }
}
const missing = SERVED.filter((id) => !served[id])
if (missing.length > 0) throw new Error(`not in swagger 1.26.3: ${missing.join(', ')}`)

const definitions = {}
const responses = {}
const visit = (node) => {
  if (Array.isArray(node)) return node.forEach(visit)
  if (node === null || typeof node !== 'object') return
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') {
      const [, kind, name] = value.split('/')
      if (kind === 'definitions' && !definitions[name]) {
        definitions[name] = swagger.definitions[name]
        visit(definitions[name])
      } else if (kind === 'responses' && !responses[name]) {
        responses[name] = swagger.responses[name]
        visit(responses[name])
      }
    } else visit(value)
  }
}
visit(served)

// Go marshals nil pointers, slices, maps and interfaces as null: those fields may be null
// in a real answer even though Swagger 2.0 cannot say so.
const nullable = {}
for (const name of Object.keys(definitions)) {
  const fields = structs[name]?.fields ?? []
  const names = fields.filter((f) => /^(\*|\[\]|map\[|interface|any)/.test(f.type)).map((f) => f.json)
  if (names.length > 0) nullable[name] = names
}
// Structs the struct-fields file does not list, their pointer fields read from Gitea 1.26.3's
// modules/structs/pull_review.go (PullReview: Reviewer *User, ReviewerTeam *Team).
const EXTRA_NULLABLE = { PullReview: ['user', 'team'] }
for (const [name, names] of Object.entries(EXTRA_NULLABLE)) {
  if (definitions[name] && !structs[name]) nullable[name] = names
}

// Which served operations 1.23.1 (gitea-js 1.23.0's source) lacks or answers differently.
const differences = []
for (const id of SERVED) {
  const op = served[id]
  const old = older.paths[op.path]?.[op.method.toLowerCase()]
  if (!old) {
    differences.push({ operationId: id, difference: 'missing in 1.23.1' })
    continue
  }
  const a = Object.keys(op.responses).sort().join(',')
  const b = Object.keys(old.responses).sort().join(',')
  if (a !== b) differences.push({ operationId: id, difference: `responses 1.26.3 [${a}] vs 1.23.1 [${b}]` })
  const pa = (op.parameters ?? [])
    .map((p) => p.name)
    .sort()
    .join(',')
  const pb = (old.parameters ?? [])
    .map((p) => p.name)
    .sort()
    .join(',')
  if (pa !== pb)
    differences.push({ operationId: id, difference: `parameters 1.26.3 [${pa}] vs 1.23.1 [${pb}]` })
}
const definitionDifferences = []
for (const name of Object.keys(definitions)) {
  const now = Object.keys(definitions[name].properties ?? {})
  const then = Object.keys(older.definitions[name]?.properties ?? {})
  const added = now.filter((p) => !then.includes(p))
  const removed = then.filter((p) => !now.includes(p))
  if (added.length || removed.length) definitionDifferences.push({ definition: name, added, removed })
}

const out = {
  source: `Extracted by scripts/extract-gitea-contract.mjs from Gitea ${swagger.info.version} swagger (go-gitea/gitea templates/swagger/v1_json.tmpl)`,
  version: swagger.info.version,
  basePath: swagger.basePath,
  allOperations,
  operations: served,
  definitions,
  responses,
  nullable,
  differencesFrom1_23_1: { operations: differences, definitions: definitionDifferences },
}
writeFileSync('src/gitea/double/gitea-contract.v1.26.3.json', JSON.stringify(out, null, 1) + '\n')
console.log(
  `operations ${Object.keys(served).length}, definitions ${Object.keys(definitions).length}, differences ${differences.length}/${definitionDifferences.length}`,
)
