import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { loadCatalogue, scopeOf } from '../../labels/index.js'

const DIR = resolve(import.meta.dirname, '../../deploy/prometheus')
const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0
const SKIP_WHY =
  'skipped: promtool is not installed (Debian package `prometheus`; scripts/ensure-system.mjs provisions it)'

const Rule = z.object({
  alert: z.string(),
  expr: z.string(),
  for: z.string().optional(),
  labels: z.object({ severity: z.enum(['critical', 'warning', 'info']) }).catchall(z.string()),
  annotations: z.object({ summary: z.string(), description: z.string(), gitea_labels: z.string() }),
})
const Rules = z.object({ groups: z.array(z.object({ name: z.string(), rules: z.array(Rule) })) })
const RuleTests = z.object({
  tests: z.array(
    z.object({
      alert_rule_test: z
        .array(z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()).default([]) }))
        .default([]),
    }),
  ),
})

function load<T>(schema: z.ZodType<T>, file: string): T {
  return schema.parse(parse(readFileSync(join(DIR, file), 'utf8')))
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

describe('the shipped alert rules', () => {
  const rules = load(Rules, 'alerts.yml').groups.flatMap((g) => g.rules)
  const cases = load(RuleTests, 'alerts.test.yml').tests.flatMap((t) => t.alert_rule_test)

  it('each rule has a unit test where it fires and one where it does not', () => {
    const missing = rules.flatMap((r) => {
      const mine = cases.filter((c) => c.alertname === r.alert)
      return [
        ...(mine.some((c) => c.exp_alerts.length > 0) ? [] : [`${r.alert}: no case where it fires`]),
        ...(mine.some((c) => c.exp_alerts.length === 0) ? [] : [`${r.alert}: no case where it stays quiet`]),
      ]
    })
    expect(missing).toEqual([])
    const unknown = cases.map((c) => c.alertname).filter((n) => !rules.some((r) => r.alert === n))
    expect(unknown).toEqual([])
  })

  it('names only catalogue labels in gitea_labels, at most one per exclusive scope', () => {
    const catalogue = new Map(loadCatalogue().labels.map((l) => [l.name, l]))
    const problems = rules.flatMap((r) => {
      const names = r.annotations.gitea_labels.split(',').map((s) => s.trim())
      const scopes = names.filter((n) => catalogue.get(n)?.exclusive).map((n) => scopeOf(n))
      return [
        ...names.filter((n) => !catalogue.has(n)).map((n) => `${r.alert}: ${n} is not in the catalogue`),
        ...(new Set(scopes).size === scopes.length ? [] : [`${r.alert}: two labels of one exclusive scope`]),
      ]
    })
    expect(problems).toEqual([])
  })

  describe.skipIf(!hasPromtool)(hasPromtool ? 'promtool' : `promtool (${SKIP_WHY})`, () => {
    it('promtool check rules accepts alerts.yml', () => {
      const r = promtool('check', 'rules', 'alerts.yml')
      expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`)
      expect(r.status, r.output).toBe(0)
    })

    it('promtool test rules passes every case of alerts.test.yml', () => {
      const r = promtool('test', 'rules', 'alerts.test.yml')
      expect(r.status, r.output).toBe(0)
      expect(r.output).toContain('SUCCESS')
    })
  })
})
