import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { commands } from '../../commands/index.js'
import { findCommand } from '../../src/commands-core/command-spec.js'
import { renderCommandsDoc } from '../../src/commands-core/help.js'
import { parseCommands } from '../../src/command-parsing/parse-commands.js'

describe('command specs', () => {
  for (const spec of commands) {
    describe(`/${spec.name}`, () => {
      it('has help with at least one example', () => {
        expect(spec.help.usage.startsWith(`/${spec.name}`)).toBe(true)
        expect(spec.help.description.length).toBeGreaterThan(10)
        expect(spec.help.examples.length).toBeGreaterThan(0)
      })
      for (const example of spec.help.examples) {
        it(`example parses with its own schema: ${example}`, () => {
          const parsed = parseCommands(example)
          expect(parsed).toHaveLength(1)
          const [cmd] = parsed
          expect(findCommand(commands, cmd?.name ?? '')).toBe(spec)
          const result = spec.args.safeParse(cmd?.input)
          expect(result.error?.issues ?? []).toEqual([])
        })
      }
    })
  }

  it('names and aliases are unique and lower case', () => {
    const all = commands.flatMap((c) => [c.name, ...c.aliases])
    expect(new Set(all).size).toBe(all.length)
    for (const n of all) expect(n).toMatch(/^[a-z][a-z0-9_-]*$/)
  })

  it('schemas refuse what they do not take', () => {
    const table: [string, RegExp][] = [
      ['/status a b', /at most one job id/],
      ['/status foo=bar', /key=value/],
      ['/houses @ezra', /@house/],
      ['/help --dry-run', /--dry-run/],
      ['/cancel', /name the job/],
      ['/run', /name the tool/],
      ['/run a b', /one tool/],
      ['/run git_status @a @b', /at most one @house/],
      ['/run git_status --mode fast', /--mode is one of/],
      ['/run git_status --mode', /--mode is one of|--mode needs/],
      ['/run git_status --force', /unknown flag --force/],
      ['/deny "j1 ; rm"', /job id/],
      ['/assign', /name one house/],
      ['/label', /at least one label/],
      ['/approve j1 "unterminated', /unterminated double quote/],
    ]
    for (const [line, message] of table) {
      const [cmd] = parseCommands(line)
      const spec = findCommand(commands, cmd?.name ?? '')
      const result = spec?.args.safeParse(cmd?.input)
      expect(result?.success, line).toBe(false)
      expect(result?.error?.issues.map((i) => i.message).join('; '), line).toMatch(message)
    }
  })

  it('docs/commands.md is generated from the specs and up to date', () => {
    const committed = readFileSync(new URL('../../docs/commands.md', import.meta.url), 'utf8')
    expect(committed).toBe(renderCommandsDoc(commands))
  })
})
