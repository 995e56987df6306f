import { describe, expect, it } from 'vitest'
import { backupProblems, stricterProblems } from '../../src/houses/backup-policy.js'
import { resolveHouses, type HousesSection } from '../../src/houses/house-policy.js'

type HousePolicyInput = HousesSection[string]

const TOOLS = ['file_read', 'file_write', 'git_status', 'git_push', 'http_get']
const base: HousePolicyInput = { mode: 'simple', sovereigns: ['sage'], workspaceRoots: ['/srv/repos'] }

function check(house: HousePolicyInput, backup: HousePolicyInput): string[] {
  const p = resolveHouses({ a: { ...base, ...house }, b: { ...base, ...backup } }, {})
  return stricterProblems(p.a!, p.b!, TOOLS)
}

describe('stricterProblems: a backup can do nothing its house could not, and checks all it checks', () => {
  const cases: { name: string; house: HousePolicyInput; backup: HousePolicyInput; problem?: RegExp }[] = [
    { name: 'the same policy', house: {}, backup: {} },
    { name: 'fewer tools', house: { tools: ['*'] }, backup: { tools: ['file_*', 'git_status'] } },
    {
      name: 'more tools',
      house: { tools: ['file_*'] },
      backup: { tools: ['file_*', 'git_*'] },
      problem: /allows tools a does not: git_status, git_push/,
    },
    {
      name: 'an exclusion dropped',
      house: { tools: ['*', '!git_push'] },
      backup: { tools: ['*'] },
      problem: /git_push/,
    },
    { name: 'a stricter mode', house: { mode: 'simple' }, backup: { mode: 'intelligent' } },
    {
      name: 'a looser mode',
      house: { mode: 'sovereign' },
      backup: { mode: 'intelligent' },
      problem: /mode intelligent is less strict than a's sovereign/,
    },
    { name: 'more approvals', house: { approvalRequired: 'writes' }, backup: { approvalRequired: 'all' } },
    {
      name: 'fewer approvals',
      house: { approvalRequired: 'writes' },
      backup: { approvalRequired: 'none' },
      problem: /approval for none calls, a for writes/,
    },
    { name: 'fewer sovereigns', house: { sovereigns: ['sage', 'timmy'] }, backup: { sovereigns: ['sage'] } },
    {
      name: 'another sovereign',
      house: { sovereigns: ['sage'] },
      backup: { sovereigns: ['sage', 'mallory'] },
      problem: /sovereigns mallory may not approve/,
    },
    {
      name: 'read-before-write dropped',
      house: { readBeforeWrite: true },
      backup: {},
      problem: /readBeforeWrite is off/,
    },
    { name: 'proof dropped', house: { proofRequired: true }, backup: {}, problem: /proofRequired is off/ },
    { name: 'read-only dropped', house: { readOnly: true }, backup: {}, problem: /readOnly is off/ },
    { name: 'read-only added', house: {}, backup: { readOnly: true, proofRequired: true } },
    {
      name: 'self-approval added',
      house: {},
      backup: { allowSelfApproval: true },
      problem: /allowSelfApproval is on/,
    },
    { name: 'a root inside', house: {}, backup: { workspaceRoots: ['/srv/repos/demo'] } },
    {
      name: 'a root outside',
      house: {},
      backup: { workspaceRoots: ['/srv/repos', '/etc'] },
      problem: /workspace roots \(\/srv\/repos, \/etc\) are not inside/,
    },
    {
      name: 'a sibling root with the same prefix',
      house: {},
      backup: { workspaceRoots: ['/srv/repos-other'] },
      problem: /not inside/,
    },
  ]
  for (const c of cases)
    it(`${c.problem ? 'refuses' : 'accepts'} ${c.name}`, () => {
      const problems = check(c.house, c.backup)
      if (c.problem) expect(problems.join('; ')).toMatch(c.problem)
      else expect(problems).toEqual([])
    })
})

describe('backupProblems', () => {
  const problems = (section: Record<string, HousePolicyInput>) =>
    backupProblems(resolveHouses(section, {}), TOOLS).map((p) => `${p.house}: ${p.problem}`)

  it('accepts stricter backups, also in a chain', () => {
    expect(
      problems({
        ezra: { mode: 'simple', readBeforeWrite: false, backup: 'allegro' },
        allegro: { backup: 'timmy', readOnly: true, proofRequired: true },
        bezalel: { backup: 'timmy' },
        timmy: { readOnly: true, proofRequired: true },
      }),
    ).toEqual([])
  })
  it('refuses an unknown house, the house itself, a cycle, and a less strict backup, naming each', () => {
    const found = problems({
      ezra: { backup: 'nobody' },
      allegro: { backup: 'allegro' },
      bezalel: { mode: 'intelligent', backup: 'timmy' },
      timmy: { backup: 'bezalel' },
    })
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ezra: unknown house nobody/),
        'allegro: a house cannot be its own backup',
        expect.stringMatching(/^bezalel: the backups form a cycle \(bezalel -> timmy -> bezalel\)/),
        expect.stringMatching(
          /^timmy: bezalel is less strict than timmy \(a house never fails over to a less strict policy\): its mode intelligent/,
        ),
      ]),
    )
  })
})
