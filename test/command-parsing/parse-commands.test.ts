import { describe, expect, it } from 'vitest'
import { parseCommands } from '../../src/command-parsing/parse-commands.js'
import { tokenizeArgs } from '../../src/command-parsing/tokenize-args.js'
import { didYouMean, editDistance } from '../../src/commands-core/did-you-mean.js'

const names = (body: string) => parseCommands(body).map((c) => c.name)

describe('parseCommands: where commands are found', () => {
  const table: { name: string; body: string; expected: string[] }[] = [
    { name: 'a command alone', body: '/help', expected: ['help'] },
    { name: 'up to three leading spaces', body: '   /help', expected: ['help'] },
    // Three spaces and a tab reach column 4: an indented code block (this used to run).
    { name: 'three spaces and a tab are code', body: '   \t/help', expected: [] },
    { name: 'a tab on a paragraph continuation line', body: 'Please:\n\t/help', expected: ['help'] },
    { name: 'not at the start of a line', body: 'please /help', expected: [] },
    {
      name: 'several commands',
      body: '/status\ntext\n/help run\n/houses',
      expected: ['status', 'help', 'houses'],
    },
    { name: 'upper case is normalised', body: '/HELP', expected: ['help'] },
    { name: 'CRLF line endings', body: 'hi\r\n/status\r\n/help\r\n', expected: ['status', 'help'] },
    { name: 'lone CR line endings', body: 'hi\r/status', expected: ['status'] },
    { name: 'a path is not a command', body: '/etc/passwd', expected: [] },
    { name: 'a bare slash is not a command', body: '/ run', expected: [] },
    { name: 'a digit after the slash is not a command', body: '/1run', expected: [] },
    { name: 'division slash U+2215', body: '\u2215run x', expected: [] },
    { name: 'fraction slash U+2044', body: '\u2044run x', expected: [] },
    { name: 'fullwidth solidus U+FF0F', body: '\uFF0Frun x', expected: [] },
    { name: 'big solidus U+29F8', body: '\u29F8run x', expected: [] },
    { name: 'zero-width space before the slash', body: '\u200B/run x', expected: [] },
    { name: 'byte order mark at the start is fine', body: '\uFEFF/help', expected: ['help'] },
    { name: 'in a backtick fence', body: '```\n/run x\n```', expected: [] },
    { name: 'after a backtick fence closes', body: '```\n/run x\n```\n/help', expected: ['help'] },
    { name: 'in a tilde fence', body: '~~~sh\n/run x\n~~~\n/help', expected: ['help'] },
    {
      name: 'a tilde line does not close a backtick fence',
      body: '```\n~~~\n/run x\n```\n/help',
      expected: ['help'],
    },
    {
      name: 'a shorter fence does not close a longer one',
      body: '````\n```\n/run x\n```\n````\n/help',
      expected: ['help'],
    },
    { name: 'a longer closing fence closes', body: '```\n/run x\n`````\n/help', expected: ['help'] },
    {
      name: 'a closing fence with text after it does not close',
      body: '```\n``` no\n/run x\n```\n/help',
      expected: ['help'],
    },
    {
      name: 'an unterminated fence runs to the end',
      body: '/status\n```\n/run x\n/help',
      expected: ['status'],
    },
    { name: 'an indented fence', body: '- item\n    ```\n    /run x\n    ```\n/help', expected: ['help'] },
    { name: 'inline code at the start', body: '`/run x`', expected: [] },
    {
      name: 'inline triple backticks on one line are not a fence',
      body: '```/run x```\n/help',
      expected: ['help'],
    },
    { name: 'in a quote', body: '> /run x\n/help', expected: ['help'] },
    { name: 'in an indented nested quote', body: '  > > /run x', expected: [] },
    { name: 'in a one-line HTML comment', body: '<!-- /run x -->\n/help', expected: ['help'] },
    { name: 'in a multi-line HTML comment', body: '<!--\n/run x\n-->\n/help', expected: ['help'] },
    {
      name: 'in a comment opened mid-line',
      body: 'note <!-- hidden\n/run x\n--> /status\n/help',
      expected: ['help'],
    },
    {
      name: 'an unterminated HTML comment hides the rest',
      body: '/status\n<!--\n/run x',
      expected: ['status'],
    },
    {
      name: 'a fence inside an HTML comment is not a fence',
      body: '<!--\n```\n-->\n/help',
      expected: ['help'],
    },
    { name: 'a comment marker inside a fence is literal', body: '```\n<!--\n```\n/help', expected: ['help'] },
    { name: 'after a hidden comment on the same line', body: '<!-- x --> /help', expected: [] },
    { name: 'empty body', body: '', expected: [] },
    // Code and hidden markup (issue 10): what a reader does not see as text never runs.
    { name: 'in a 4-space indented code block', body: '    /run x\n\n/help', expected: ['help'] },
    { name: 'in a tab indented code block', body: 'text\n\n\t/run x\n\n/help', expected: ['help'] },
    { name: 'in <pre>', body: '<pre>\n/run x\n</pre>\n\n/help', expected: ['help'] },
    { name: 'in <pre> with blank lines', body: '<pre>\n\n/run x\n\n</pre>\n\n/help', expected: ['help'] },
    { name: 'in <pre> opened inline', body: 'log: <pre>\n/run x\n</pre>\n\n/help', expected: ['help'] },
    {
      name: 'in a <details> body',
      body: '<details>\n<summary>Logs</summary>\n\n/run x\n\n</details>\n\n/help',
      expected: ['help'],
    },
    { name: 'in an open <details>', body: '<details open>\n\n/run x\n\n</details>', expected: [] },
    { name: 'in an unclosed <details>', body: '/status\n\n<details>\n\n/run x', expected: ['status'] },
    { name: 'in <details> opened inline', body: 'see <details>\n/run x\n\n/help', expected: [] },
    { name: 'in a $$ math block', body: '$$\n/run x\n$$\n/help', expected: ['help'] },
    { name: 'in a $$ block that interrupts text', body: 'Math:\n$$\n/run x\n$$\n/help', expected: ['help'] },
    { name: 'in an unclosed $$ block', body: '/status\n$$\n/run x', expected: ['status'] },
    { name: 'in a \\[ math block', body: '\\[\n/run x\n\\]\n/help', expected: ['help'] },
    { name: 'in <script>', body: '<script>\n/run x\n</script>\n/help', expected: ['help'] },
    { name: 'in <style>', body: '<style>\n/run x\n</style>\n/help', expected: ['help'] },
    { name: 'in <textarea>', body: '<textarea>\n/run x\n</textarea>\n/help', expected: ['help'] },
    {
      name: 'in <textarea> opened inline',
      body: 'a <textarea>\n/run x\n</textarea>\n/help',
      expected: ['help'],
    },
    { name: 'in <code> with blank lines', body: '<code>\n\n/run x\n\n</code>\n\n/help', expected: ['help'] },
    {
      name: 'in an element with hidden',
      body: '<div hidden>\n\n/run x\n\n</div>\n\n/help',
      expected: ['help'],
    },
    { name: 'in an unknown element', body: '<foo>\n\n/run x\n\n</foo>\n\n/help', expected: ['help'] },
    { name: 'in a raw HTML block line', body: '<div>\n/run x\n</div>', expected: [] },
    { name: 'in an attribute left open', body: '<div title="\n\n/run x\n\n">', expected: [] },
    { name: 'in a code span over lines', body: '`a\n/run x\nb`\n/help', expected: ['help'] },
    { name: 'in a link title over lines', body: '[a](u "t\n/run x\n")\n/help', expected: ['help'] },
    { name: 'in an image description over lines', body: '![a\n/run x\n](u)\n/help', expected: ['help'] },
    {
      name: 'in a fence inside a list item',
      body: '- item\n\n  ```\n  /run x\n  ```\n/help',
      expected: ['help'],
    },
    {
      name: 'an end tag inside an attribute value does not close',
      body: '<details>\n<a title="</details>">\n\n/run x',
      expected: [],
    },
    {
      name: 'an end tag does not reach out of a table',
      body: '<details><table>\n\n</details>\n\n/run x',
      expected: [],
    },
    {
      name: 'script data with <!-- hides the rest',
      body: '<script><!--<script></script>\n\n/run x',
      expected: [],
    },
    {
      name: 'an end tag closes its element and the plain ones inside it',
      body: '<details><b>\n\n/run x\n\n</details>\n\n/help',
      expected: ['help'],
    },
    {
      name: 'nesting deeper than the parser reads hides the rest',
      body: '>'.repeat(30) + ' x\n\n/run x',
      expected: [],
    },
    // What still runs.
    { name: 'after a paragraph', body: 'Please look.\n/help', expected: ['help'] },
    { name: 'on a list item continuation line', body: '- item\n  /help', expected: ['help'] },
    { name: 'not on a list marker line', body: '- /run x\n1. /run y', expected: [] },
    {
      name: 'after a closed <details>',
      body: '<details>\n\n/run x\n\n</details>\n\n/help',
      expected: ['help'],
    },
    {
      name: 'right after </details> is still HTML',
      body: '<details>\n\n/run x\n\n</details>\n/help',
      expected: [],
    },
    { name: 'after a closed $$ block', body: '$$\nx^2\n$$\n/help', expected: ['help'] },
    { name: 'inside a layout <div>', body: '<div align="center">\n\n/help\n\n</div>', expected: ['help'] },
    { name: 'after a one-line $$ block', body: '$$ x^2 $$\n/help', expected: ['help'] },
    { name: 'a setext heading line', body: '/help\n---', expected: ['help'] },
  ]
  for (const t of table) it(t.name, () => expect(names(t.body)).toEqual(t.expected))
})

describe('parseCommands: what a command keeps', () => {
  it('keeps the raw line, line number and index', () => {
    const [a, b] = parseCommands('hello\r\n  /run git_status @bezalel  \r\n/help run')
    expect(a).toMatchObject({ name: 'run', raw: '/run git_status @bezalel', line: 2, index: 0 })
    expect(b).toMatchObject({ name: 'help', line: 3, index: 1, input: { positionals: ['run'] } })
  })

  it('groups arguments by kind', () => {
    const [c] = parseCommands('/run file_read path="a b.txt" @Ezra --mode sovereign --dry-run --x=1 --y')
    expect(c?.input).toEqual({
      positionals: ['file_read'],
      named: { path: 'a b.txt' },
      houses: ['ezra'],
      mode: 'sovereign',
      dryRun: true,
      flags: { x: '1', y: true },
      errors: [],
    })
  })

  it('drops inline HTML and what it hides from the arguments', () => {
    const [c] = parseCommands('/deny j1 <details>secret</details> reason')
    expect(c?.input.positionals).toEqual(['j1', 'reason'])
  })

  it('keeps backslash escapes and emphasis markers in the arguments as written', () => {
    const [c] = parseCommands('/run x msg="a \\" b" *y*')
    expect(c?.input.named).toEqual({ msg: 'a " b' })
    expect(c?.input.positionals).toEqual(['x', '*y*'])
  })

  it('numbers lines of nested blocks as in the body', () => {
    const found = parseCommands('- a\n\n  b\n  /help\n\n> q\nlazy\n/status')
    expect(found.map((c) => [c.name, c.line])).toEqual([
      ['help', 4],
      ['status', 8],
    ])
  })

  it('drops inline code and inline comments from the arguments', () => {
    const [c] = parseCommands('/deny j1 `not this` <!-- nor this --> reason')
    expect(c?.input.positionals).toEqual(['j1', 'reason'])
  })

  it('reports an unterminated quote without throwing', () => {
    const [c] = parseCommands('/deny j1 "no end')
    expect(c?.input.errors).toEqual(['unterminated double quote'])
    expect(c?.input.positionals).toEqual(['j1', 'no end'])
  })
})

describe('tokenizeArgs', () => {
  const table: { input: string; expected: unknown[] }[] = [
    {
      input: 'a b',
      expected: [
        { kind: 'positional', value: 'a' },
        { kind: 'positional', value: 'b' },
      ],
    },
    { input: 'k=v', expected: [{ kind: 'keyValue', key: 'k', value: 'v' }] },
    { input: 'k=a=b', expected: [{ kind: 'keyValue', key: 'k', value: 'a=b' }] },
    { input: 'k=', expected: [{ kind: 'keyValue', key: 'k', value: '' }] },
    { input: '=v', expected: [{ kind: 'positional', value: '=v' }] },
    { input: 'msg="a \\"b\\" c"', expected: [{ kind: 'keyValue', key: 'msg', value: 'a "b" c' }] },
    { input: "msg='it\\'s'", expected: [{ kind: 'keyValue', key: 'msg', value: "it's" }] },
    { input: '"k=v"', expected: [{ kind: 'positional', value: 'k=v' }] },
    { input: '"a\\nb"', expected: [{ kind: 'positional', value: 'a\nb' }] },
    { input: '""', expected: [{ kind: 'positional', value: '' }] },
    { input: '@bezalel', expected: [{ kind: 'house', name: 'bezalel' }] },
    { input: '"@bezalel"', expected: [{ kind: 'positional', value: '@bezalel' }] },
    { input: '@', expected: [{ kind: 'positional', value: '@' }] },
    { input: '--dry-run', expected: [{ kind: 'flag', name: 'dry-run', value: undefined }] },
    { input: '--mode simple', expected: [{ kind: 'flag', name: 'mode', value: 'simple' }] },
    { input: '--mode=simple', expected: [{ kind: 'flag', name: 'mode', value: 'simple' }] },
    {
      input: '--mode --dry-run',
      expected: [
        { kind: 'flag', name: 'mode', value: undefined },
        { kind: 'flag', name: 'dry-run', value: undefined },
      ],
    },
    { input: '"--dry-run"', expected: [{ kind: 'positional', value: '--dry-run' }] },
    { input: '--', expected: [{ kind: 'positional', value: '--' }] },
  ]
  for (const t of table)
    it(JSON.stringify(t.input), () => expect(tokenizeArgs(t.input).tokens).toEqual(t.expected))
})

describe('did you mean', () => {
  it('measures edit distance', () => {
    expect(editDistance('status', 'status')).toBe(0)
    expect(editDistance('stauts', 'status')).toBe(2)
    expect(editDistance('', 'abc')).toBe(3)
  })
  it('suggests close names and nothing for far ones', () => {
    expect(didYouMean('stauts', ['status', 'run', 'help'])).toEqual(['status'])
    expect(didYouMean('rn', ['run', 'help'])).toEqual(['run'])
    expect(didYouMean('deploy', ['status', 'run', 'help'])).toEqual([])
    expect(didYouMean('run', ['run'])).toEqual([])
  })
})

describe('parseCommands: never throws, stays linear', () => {
  it('handles a 1 MB line', () => {
    const line = '/run x ' + 'a'.repeat(1 << 20)
    expect(parseCommands(line)).toHaveLength(1)
    expect(parseCommands('`'.repeat(1 << 20))).toEqual([])
    expect(parseCommands('/run ' + '"'.repeat(1 << 20))[0]?.name).toBe('run')
    expect(parseCommands('/run ' + '` `` ``` '.repeat(100_000))[0]?.name).toBe('run')
    expect(parseCommands('<!--'.repeat(250_000))).toEqual([])
  })

  it('handles deeply nested fences and many lines', () => {
    let body = ''
    for (let n = 200; n >= 3; n--) body += '`'.repeat(n) + '\n/run x\n'
    expect(parseCommands(body)).toEqual([])
    expect(parseCommands('/help\n'.repeat(100_000))).toHaveLength(100_000)
  })

  it('random bodies never throw', () => {
    const alphabet = [
      '/',
      'run',
      'help',
      ' ',
      '\n',
      '\r\n',
      '`',
      '```',
      '~~~',
      '>',
      '<!--',
      '-->',
      '"',
      "'",
      '\\',
      '=',
      '@',
      '--',
      'x',
      '\u2215',
      '\t',
    ]
    let seed = 42
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let i = 0; i < 2000; i++) {
      let body = ''
      const len = Math.floor(rand() * 60)
      for (let j = 0; j < len; j++) body += alphabet[Math.floor(rand() * alphabet.length)]
      const out = parseCommands(body)
      for (const c of out) expect(c.raw.trimStart().startsWith('/')).toBe(true)
    }
  })
})
