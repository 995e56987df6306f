import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { loadCatalogue, scopeOf } from '../../labels/index.js'

const DIR = resolve(import.meta.dirname, '../../deploy/prometheus')
const ALERTMANAGER_DIR = resolve(import.meta.dirname, '../../deploy/alertmanager')
const has = (program: string) => spawnSync(program, ['--version'], { encoding: 'utf8' }).status === 0
const hasPromtool = has('promtool')
const hasAmtool = has('amtool')
const skipWhy = (program: string) =>
  `skipped: ${program} is not installed (Debian package \`${program === 'amtool' ? 'prometheus-alertmanager' : 'prometheus'}\`; scripts/ensure-system.mjs provisions it)`

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

function run(program: string, cwd: string, ...args: string[]): { status: number | null; output: string } {
  const r = spawnSync(program, args, { cwd, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}
const promtool = (...args: string[]) => run('promtool', DIR, ...args)

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

  describe.skipIf(!hasPromtool)(hasPromtool ? 'promtool' : `promtool (${skipWhy('promtool')})`, () => {
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

    it('promtool check config accepts the example prometheus.yml, which loads alerts.yml', () => {
      const r = promtool('check', 'config', 'prometheus.yml')
      expect(r.status, r.output).toBe(0)
      expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`)
    })
  })

  describe.skipIf(!hasAmtool)(hasAmtool ? 'amtool' : `amtool (${skipWhy('amtool')})`, () => {
    it('amtool check-config accepts the example alertmanager.yml, routing to the bot with a bearer token file', () => {
      const r = run('amtool', ALERTMANAGER_DIR, 'check-config', 'alertmanager.yml')
      expect(r.status, r.output).toBe(0)
      const config = parse(readFileSync(join(ALERTMANAGER_DIR, 'alertmanager.yml'), 'utf8')) as {
        receivers: {
          webhook_configs?: { url: string; http_config?: { authorization?: { credentials_file?: string } } }[]
        }[]
      }
      const hooks = config.receivers.flatMap((r) => r.webhook_configs ?? [])
      expect(hooks.map((h) => new URL(h.url).pathname)).toEqual(['/alerts/alertmanager'])
      expect(hooks[0]?.http_config?.authorization?.credentials_file).toMatch(/^\//)
    })
  })
})
