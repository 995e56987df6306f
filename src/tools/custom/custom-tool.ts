import path from 'node:path'
import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { exec, tail } from '../exec.js'
import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type ToolSpec } from '../tool.js'
import { resolveInWorkspace } from '../workspace.js'
import { CustomToolDef, PLACEHOLDER, type CustomArgDef } from './custom-tool-def.js'

type ArgValue = string | number | boolean

function argSchema(def: CustomArgDef): z.ZodType {
  let s: z.ZodType
  switch (def.type) {
    case 'string': {
      let str = z
        .string()
        .max(4096)
        .refine((v) => !v.includes('\0'), 'must not contain NUL')
      if (def.pattern) {
        const re = new RegExp(`^(?:${def.pattern})$`)
        str = str.refine((v) => re.test(v), `must match ${def.pattern}`)
      }
      s = str
      break
    }
    case 'number':
      s = z.number().finite()
      break
    case 'boolean':
      s = z.boolean()
      break
    case 'enum':
      s = z.enum(def.values as [string, ...string[]])
      break
  }
  if (def.default !== undefined) return s.default(def.default as never)
  return def.required ? s : s.optional()
}

/** The zod schema of a custom tool's args, built from its declaration. */
export function customArgsSchema(def: CustomToolDef): z.ZodObject {
  return z.object(Object.fromEntries(Object.entries(def.args).map(([k, a]) => [k, argSchema(a)]))).strict()
}

/**
 * Expands a template: every `{name}` is replaced by the value's text, inside the one string.
 * Returns undefined when a referenced value is absent, so the caller can drop the entry.
 */
function expand(template: string, values: Record<string, ArgValue | undefined>): string | undefined {
  let missing = false
  const out = template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = values[name]
    if (v === undefined) {
      missing = true
      return ''
    }
    return String(v)
  })
  return missing ? undefined : out
}

/**
 * The argv a custom tool runs for given args: one entry per command entry, placeholders expanded
 * inside it, never split or joined, so `prod; rm -rf /` reaches the program as one literal argument.
 *
 * @example
 *   customArgv(['printf', '%s', '{msg}'], { msg: 'a; b' }) // ['printf', '%s', 'a; b']
 */
export function customArgv(
  command: readonly string[],
  values: Record<string, ArgValue | undefined>,
): string[] {
  return command.flatMap((entry) => {
    const v = expand(entry, values)
    return v === undefined ? [] : [v]
  })
}

/**
 * Makes a ToolSpec from a configuration declaration. The command runs without a shell, in
 * `cwd` (confined to the workspace roots), with PATH, HOME and the declared env only. A non-zero
 * exit is a failure carrying the end of stderr; evidence is the exit code and output digest.
 *
 * @example
 *   const deploy = customTool(CustomToolDef.parse(yaml.toolSettings.customTools[0]))
 *   await deploy.run({ env: 'staging' }, ctx)
 */
export function customTool(input: z.input<typeof CustomToolDef>): ToolSpec<z.ZodObject> {
  const def = CustomToolDef.parse(input)
  const args = customArgsSchema(def)
  return {
    name: def.name,
    category: 'custom',
    description: def.description,
    args,
    access: def.access,
    timeoutMs: def.timeoutMs,
    target: (values) => (def.target ? expand(def.target, values as Record<string, ArgValue>) : undefined),
    async run(values, ctx) {
      const cwd = (await resolveInWorkspace(def.cwd ?? '.', ctx.workspaceRoots, { kind: 'directory' })).path
      const argv = customArgv(def.command, values as Record<string, ArgValue>)
      const [program, ...rest] = argv as [string, ...string[]]
      // A relative program path (./deploy.sh) means one in cwd, not one found on PATH.
      const file = program.includes('/') ? path.resolve(cwd, program) : program
      const r = await exec(file, rest, {
        cwd,
        signal: ctx.signal,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LC_ALL: 'C.UTF-8', ...def.env },
        maxOutputBytes: toolsConfigOf(ctx).exec.maxOutputBytes,
      })
      if (r.code !== 0) {
        // A non-zero exit is the program's answer to these args (the caller's business); killed
        // by a signal, or 126/127 from a wrapper that could not run its program, is a crash.
        const crashed = r.code === null || r.code === 126 || r.code === 127
        throw new ToolError(
          `${def.name} exited with ${r.code ?? r.signal}: ${tail(r.stderr || r.stdout)}`,
          false,
          {
            fault: crashed ? 'dependency' : 'caller',
          },
        )
      }
      // First, not last: the harness caps the output again (64 KiB by default) and keeps the head,
      // so a note at the end of a flood would be cut and the result would under-report the loss.
      const note = r.truncatedBytes > 0 ? `[${r.truncatedBytes} bytes of output cut]\n` : ''
      return {
        output: note + r.stdout + (r.stderr ? `\n[stderr]\n${r.stderr}` : ''),
        data: { argv, code: r.code },
      }
    },
    async verify(_values, result) {
      const { argv, code } = result.data as { argv: string[]; code: number }
      return {
        kind: 'exit-code',
        summary: `${def.name} exited 0`,
        detail: { code, argv, outputSha256: sha256Hex(result.output) },
      }
    },
  }
}
