import type { CommandSpec } from './command-spec.js'
import { codeBlock } from './markdown.js'
import { PERMISSION_TEXT } from './permission.js'

/**
 * The `/help` overview: one table row per command.
 *
 * @example
 *   renderHelp(commands) // '| Command | Who may use it | What it does |\n...'
 */
export function renderHelp(commands: readonly CommandSpec[]): string {
  const rows = commands.map(
    (c) => `| \`${c.help.usage}\` | ${c.permission} | ${c.help.description.split('\n')[0] ?? ''} |`,
  )
  return [
    '| Command | Who may use it | What it does |',
    '| --- | --- | --- |',
    ...rows,
    '',
    'Type `/help <command>` for details and examples. Commands must start a line; text in code, quotes and HTML comments is ignored.',
  ].join('\n')
}

/**
 * Detailed help for one command: usage, description, who may use it, aliases, examples.
 *
 * @example
 *   renderCommandHelp(status) // '**`/status [job]`**\n\n...'
 */
export function renderCommandHelp(spec: CommandSpec, headingLevel = 0): string {
  const title =
    headingLevel > 0 ? `${'#'.repeat(headingLevel)} \`/${spec.name}\`` : `**\`${spec.help.usage}\`**`
  const lines = [title, '']
  if (headingLevel > 0) lines.push(`Usage: \`${spec.help.usage}\``, '')
  lines.push(spec.help.description, '')
  lines.push(`Who may use it: ${spec.permission} (${PERMISSION_TEXT[spec.permission]}).`)
  if (spec.aliases.length > 0) lines.push(`Aliases: ${spec.aliases.map((a) => `\`/${a}\``).join(', ')}.`)
  lines.push('', 'Examples:', '', codeBlock(spec.help.examples.join('\n')))
  return lines.join('\n')
}

/**
 * docs/commands.md, generated from the specs by scripts/gen-commands-doc.ts; a test checks that
 * the committed file matches.
 *
 * @example
 *   writeFileSync('docs/commands.md', renderCommandsDoc(commands))
 */
export function renderCommandsDoc(commands: readonly CommandSpec[]): string {
  return [
    '# Slash commands',
    '',
    '<!-- Generated from commands/*.ts by scripts/gen-commands-doc.ts. Do not edit by hand. -->',
    '',
    'Write a command at the start of a line in a new issue or pull request comment. A comment may hold',
    'several commands. Commands inside code, `>` quotes or `<!-- -->` comments are ignored, and so are',
    'edited and deleted comments. See [BOT.md](BOT.md) for how comments become commands.',
    '',
    renderHelp(commands),
    '',
    ...commands.flatMap((c) => [renderCommandHelp(c, 2), '']),
  ].join('\n')
}
