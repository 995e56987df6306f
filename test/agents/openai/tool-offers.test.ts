import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { argsJsonSchema, toolOffers } from '../../../src/agents/openai/tool-offers.js'
import { builtinTools } from '../../../src/tools/builtin-tools.js'
import { customTool } from '../../../src/tools/custom/custom-tool.js'

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020
const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }))

/**
 * One valid argument object per built-in tool, as a model would write it (JSON: numbers and
 * booleans native, fields with defaults left out where the tool allows it). A new tool without
 * a sample fails the test below, so its offered schema gets checked too.
 */
const samples: Record<string, Record<string, unknown>> = {
  system_info: {},
  process_list: { filter: 'node', sortBy: 'mem', limit: 5 },
  disk_usage: { path: '/' },
  service_status: { unit: 'nginx.service' },
  service_control: { unit: 'nginx.service', action: 'restart' },
  health_check: {
    targets: [
      { url: 'https://example.org/health', expectStatus: 200 },
      { host: 'db', port: 5432 },
    ],
  },
  git_status: {},
  git_log: { maxCount: 3, path: 'src' },
  git_branch_list: { remotes: true },
  git_pull: { ffOnly: true },
  git_commit: { message: 'Fix typo', paths: ['README.md'] },
  git_push: { branch: 'bezalel/fix', setUpstream: true },
  git_checkout: { ref: 'bezalel/fix', create: true },
  file_read: { path: 'README.md', maxBytes: 4096 },
  file_write: { path: 'docs/notes.md', content: '# Notes\n', createDirs: true },
  file_list: { path: 'src', recursive: true },
  file_search: { query: 'TODO', regex: false, maxMatches: 10 },
  http_get: { url: 'https://example.org/status.json', headers: { accept: 'application/json' } },
  http_post: { url: 'https://example.org/hook', body: '{"a":1}' },
  gitea_get_issue: { repo: 'acme/app', index: 7 },
  gitea_list_issues: { repo: 'acme/app', state: 'all', labels: ['bug'], limit: 5 },
  gitea_create_issue: { repo: 'acme/app', title: 'Flaky test', labels: [3] },
  gitea_comment: { repo: 'acme/app', index: 7, body: 'Done.' },
  gitea_create_pr: { repo: 'acme/app', head: 'bezalel/fix', title: 'Fix', draft: true },
}

describe('toolOffers: JSON Schema from each tool’s zod args', () => {
  it('has a sample for every built-in tool', () => {
    expect(Object.keys(samples).sort()).toEqual(builtinTools.map((t) => t.name).sort())
  })

  it.each(builtinTools.map((t) => [t.name, t] as const))(
    '%s: the schema builds, is an object schema, and a valid sample passes both it and the zod parse',
    (name, spec) => {
      const [offer] = toolOffers([spec])
      expect(offer?.name).toBe(name)
      expect(offer?.description).toBe(spec.description)
      const schema = offer?.parameters as Record<string, unknown>
      expect(schema.type).toBe('object')
      expect(schema).not.toHaveProperty('$schema')
      const sample = samples[name]
      // What the model writes travels as JSON: the harness gets the parsed JSON, not the object.
      const wire = JSON.parse(JSON.stringify(sample))
      const validate = ajv.compile(schema)
      expect(validate(wire), JSON.stringify(validate.errors)).toBe(true)
      expect(spec.args.safeParse(wire).success).toBe(true)
      // Extra keys: refused by the schema and by the harness alike.
      const extra = { ...wire, notAnArg: 1 }
      expect(validate(extra)).toBe(false)
      expect(spec.args.safeParse(extra).success).toBe(false)
    },
  )

  it('keeps no regex pattern keyword (llama.cpp refuses \\w and \\/ in grammars) but says it in the description', () => {
    const offers = toolOffers(builtinTools)
    expect(JSON.stringify(offers)).not.toContain('"pattern"')
    const issue = offers.find((o) => o.name === 'gitea_get_issue')?.parameters as {
      properties: { repo: { description: string } }
    }
    expect(issue.properties.repo.description).toBe('Must match the regular expression ^[\\w.-]+\\/[\\w.-]+$.')
    const gitea = builtinTools.find((t) => t.name === 'gitea_get_issue')
    expect(gitea?.args.safeParse({ repo: 'not a repo', index: 1 }).success).toBe(false)
  })

  it('leaves a pattern that is data alone: an arg named pattern, a default holding one', () => {
    const schema = argsJsonSchema(
      z.object({
        pattern: z.string().regex(/^a+$/),
        opts: z.object({ pattern: z.string() }).default({ pattern: 'keep me' }),
      }),
    ) as { properties: { pattern: Record<string, unknown>; opts: { default: unknown } } }
    expect(schema.properties.pattern).toMatchObject({
      type: 'string',
      description: 'Must match the regular expression ^a+$.',
    })
    expect(schema.properties.pattern).not.toHaveProperty('pattern')
    expect(schema.properties.opts.default).toEqual({ pattern: 'keep me' })
  })

  it('a field with a default is optional in the offered schema, as the harness accepts it', () => {
    const fileList = builtinTools.find((t) => t.name === 'file_list')
    const schema = toolOffers(fileList ? [fileList] : [])[0]?.parameters as { required?: string[] }
    expect(schema.required ?? []).toEqual([])
    expect(fileList?.args.safeParse({}).success).toBe(true)
    const fileRead = builtinTools.find((t) => t.name === 'file_read')
    expect(
      (toolOffers(fileRead ? [fileRead] : [])[0]?.parameters as { required: string[] }).required,
    ).toEqual(['path'])
  })

  it('strings where the schema says number or boolean are refused by both (no coercion to hide)', () => {
    const gitLog = builtinTools.find((t) => t.name === 'git_log')
    if (!gitLog) throw new Error('git_log missing')
    const validate = ajv.compile(argsJsonSchema(gitLog.args))
    expect(validate({ maxCount: '3' })).toBe(false)
    expect(gitLog.args.safeParse({ maxCount: '3' }).success).toBe(false)
  })

  it('offers custom tools too (their pattern is checked by the harness’s zod parse)', () => {
    const tool = customTool({
      name: 'snooze',
      description: 'sleeps',
      command: ['sleep', '{seconds}'],
      args: {
        seconds: { type: 'string', pattern: '\\d+', required: true },
        loud: { type: 'boolean', default: false },
      },
      access: 'read',
    })
    const schema = toolOffers([tool])[0]?.parameters as Record<string, unknown>
    expect(schema).toMatchObject({
      type: 'object',
      properties: { seconds: { type: 'string' }, loud: { type: 'boolean' } },
      required: ['seconds'],
    })
    expect(tool.args.safeParse({ seconds: '2' }).success).toBe(true)
    expect(tool.args.safeParse({ seconds: 'soon' }).success).toBe(false)
  })

  it('refuses a tool whose args are not an object, naming it', () => {
    const odd = {
      ...builtinTools[0],
      name: 'odd',
      args: z.string(),
    } as unknown as (typeof builtinTools)[number]
    expect(() => toolOffers([odd])).toThrow(/tool odd: tool args must be a zod object/)
  })
})
