import { createHash } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { z } from 'zod'
import { ToolError, type Evidence, type ToolRunResult, type ToolSpec } from '../../src/tools/tool.js'

/** A tool built from a run function, with defaults for everything else. */
export function testTool(
  name: string,
  run: (args: { text?: string }) => Promise<ToolRunResult>,
  extra: Partial<ToolSpec> = {},
): ToolSpec {
  return {
    name,
    category: 'custom',
    description: `test tool ${name}`,
    args: z.object({ text: z.string().optional() }),
    access: 'read',
    timeoutMs: 5_000,
    target: () => undefined,
    run: run as ToolSpec['run'],
    verify: async () => undefined,
    ...extra,
  }
}

export const echo = testTool('echo', async (a) => ({ output: a.text ?? '' }), {
  verify: async (): Promise<Evidence> => ({ kind: 'echo', summary: 'echoed', detail: {} }),
})

export const noEvidence = testTool('no_evidence', async () => ({ output: 'done' }), { access: 'write' })

export const failing = testTool('always_fails', async () => {
  throw new ToolError('the thing is broken', false)
})

const digestOfFile = async (path: string) =>
  `sha256:${createHash('sha256')
    .update(await readFile(path))
    .digest('hex')}`

const FileArgs = z.object({ path: z.string(), content: z.string().optional() })

/** Reads a file; its target is the path. */
export const readText: ToolSpec<typeof FileArgs> = {
  name: 'read_text',
  category: 'file',
  description: 'read a file',
  args: FileArgs,
  access: 'read',
  timeoutMs: 5_000,
  target: (a) => `file:${a.path}`,
  targetDigest: (a) => digestOfFile(a.path),
  run: async (a) => ({ output: await readFile(a.path, 'utf8'), targetDigest: await digestOfFile(a.path) }),
  verify: async () => undefined,
}

/** Writes a file; verification re-reads and hashes it. */
export const writeText: ToolSpec<typeof FileArgs> = {
  name: 'write_text',
  category: 'file',
  description: 'write a file',
  args: FileArgs,
  access: 'write',
  timeoutMs: 5_000,
  target: (a) => `file:${a.path}`,
  targetDigest: (a) => digestOfFile(a.path),
  run: async (a) => {
    await writeFile(a.path, a.content ?? '')
    return { output: `wrote ${a.path}`, targetDigest: await digestOfFile(a.path) }
  },
  verify: async (a) => ({
    kind: 'sha256-reread',
    summary: 're-read',
    detail: { digest: await digestOfFile(a.path) },
  }),
}
