import { chmod, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CustomToolDef } from '../../src/tools/custom/custom-tool-def.js'
import { customArgv, customTool } from '../../src/tools/custom/custom-tool.js'
import { toolsFromConfig } from '../../src/tools/tools-from-config.js'
import { ToolsConfig } from '../../src/tools/tools-config.js'
import { tempDir, toolContext } from './tool-context.js'

let root: string
let cleanup: () => Promise<void>
beforeEach(async () => {
  ;({ dir: root, cleanup } = await tempDir())
})
afterEach(() => cleanup())

const echoArgv = customTool({
  name: 'echo_argv',
  description: 'Prints its argv as JSON',
  command: [
    'node',
    '-e',
    'process.stdout.write(JSON.stringify(process.argv.slice(1)))',
    '--',
    '{msg}',
    '--tag={tag}',
  ],
  args: { msg: { type: 'string' }, tag: { type: 'string', required: false } },
  access: 'read',
})

describe('custom tools', () => {
  const literal = [
    'deploy env=prod; rm -rf /',
    '$(touch pwned)',
    '`id`',
    'a && b | c > /tmp/x',
    'it\'s "quoted"',
    '*',
    '-rf',
  ]
  for (const msg of literal) {
    it(`passes ${JSON.stringify(msg)} as one literal argv entry`, async () => {
      const r = await echoArgv.run(echoArgv.args.parse({ msg }), toolContext([root]))
      expect(JSON.parse(r.output)).toEqual([msg])
    })
  }

  it('drops an entry whose optional placeholder is absent, substitutes inside an entry when present', async () => {
    const r = await echoArgv.run(echoArgv.args.parse({ msg: 'x', tag: 'v1; ls' }), toolContext([root]))
    expect(JSON.parse(r.output)).toEqual(['x', '--tag=v1; ls'])
    expect(customArgv(['printf', '%s', '{msg}'], { msg: 'a; b' })).toEqual(['printf', '%s', 'a; b'])
  })

  it('runs a deploy script in the workspace with typed args; enum and pattern refuse bad input', async () => {
    await writeFile(path.join(root, 'deploy.sh'), '#!/bin/sh\nprintf "deploying %s at %s\\n" "$1" "$2"\n')
    await chmod(path.join(root, 'deploy.sh'), 0o755)
    const deploy = customTool({
      name: 'deploy',
      description: 'Deploy a release',
      command: ['./deploy.sh', '{env}', '{ref}'],
      args: {
        env: { type: 'enum', values: ['staging', 'prod'] },
        ref: { type: 'string', pattern: '[\\w./-]+', default: 'main' },
      },
      access: 'write',
      target: 'deploy:{env}',
      timeoutMs: 30_000,
    })
    const args = deploy.args.parse({ env: 'staging' })
    expect(deploy.target(args, toolContext([root]))).toBe('deploy:staging')
    const r = await deploy.run(args, toolContext([root]))
    expect(r.output).toBe('deploying staging at main\n')
    expect(await deploy.verify(args, r, toolContext([root]))).toMatchObject({
      kind: 'exit-code',
      detail: { code: 0 },
    })
    expect(() => deploy.args.parse({ env: 'prod; rm -rf /' })).toThrow()
    expect(() => deploy.args.parse({ env: 'prod', ref: 'main; rm -rf /' })).toThrow()
    expect(() => deploy.args.parse({ env: 'prod', extra: 1 })).toThrow()
  })

  it('a non-zero exit is a failure carrying stderr', async () => {
    const fail = customTool({
      name: 'fail',
      description: 'fails',
      command: ['sh', '-c', 'echo broken >&2; exit 4'],
      access: 'read',
    })
    await expect(fail.run({}, toolContext([root]))).rejects.toThrow(/fail exited with 4: broken/)
  })

  it('declarations are validated', () => {
    const bad: [string, unknown][] = [
      ['unknown placeholder', { name: 'x', description: 'd', command: ['echo', '{nope}'], access: 'read' }],
      [
        'placeholder as program',
        { name: 'x', description: 'd', command: ['{p}'], args: { p: { type: 'string' } }, access: 'read' },
      ],
      [
        'enum without values',
        { name: 'x', description: 'd', command: ['echo'], args: { e: { type: 'enum' } }, access: 'read' },
      ],
      ['bad name', { name: 'Deploy!', description: 'd', command: ['echo'], access: 'read' }],
      ['empty command', { name: 'x', description: 'd', command: [], access: 'read' }],
    ]
    for (const [, def] of bad) expect(CustomToolDef.safeParse(def).success).toBe(false)
  })

  it('toolsFromConfig adds custom tools and refuses a name clash with a built-in', () => {
    const def = { name: 'deploy', description: 'd', command: ['true'], access: 'write' }
    expect(toolsFromConfig(ToolsConfig.parse({ customTools: [def] })).map((t) => t.name)).toContain('deploy')
    expect(() => toolsFromConfig(ToolsConfig.parse({ customTools: [{ ...def, name: 'git_push' }] }))).toThrow(
      /duplicate tool name: git_push/,
    )
  })
})

describe('custom tool output cap', () => {
  it('puts the note on what the exec cap dropped first, where a later cap of the head keeps it', async () => {
    const flood = customTool({
      name: 'flood',
      description: 'Writes 2 MiB',
      command: ['sh', '-c', "head -c 2097152 /dev/zero | tr '\\0' a"],
      access: 'read',
    })
    const r = await flood.run(flood.args.parse({}), toolContext([root]))
    expect(r.output.startsWith('[1048576 bytes of output cut]\naaa')).toBe(true)
    expect(r.output.length).toBe('[1048576 bytes of output cut]\n'.length + 1024 * 1024)
  })
})
