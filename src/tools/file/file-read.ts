import { z } from 'zod'
import { toolsConfigOf } from '../tools-config.js'
import type { ToolSpec } from '../tool.js'
import { describePath, resolveInWorkspace } from '../workspace.js'
import { fileDigest, readCapped } from './file-digest.js'

export const FileReadArgs = z
  .object({
    path: z.string().min(1).max(4096),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
    /** Bytes returned (capped by toolSettings.files.maxReadBytes); the digest covers the whole file. */
    maxBytes: z.number().int().positive().optional(),
  })
  .strict()

/**
 * `file_read`: a file's content (first N bytes) and the sha256 of all of it, which read-before-write
 * records for a later `file_write`.
 *
 * @example
 *   await fileRead.run({ path: 'config/app.yaml' }, ctx) // targetDigest = sha256 of the file
 */
export const fileRead: ToolSpec<typeof FileReadArgs> = {
  name: 'file_read',
  category: 'file',
  description: 'Read a file in the workspace (size-capped); returns its content and sha256.',
  args: FileReadArgs,
  access: 'read',
  timeoutMs: 10_000,
  target: (args, ctx) => `file:${describePath(args.path, ctx.workspaceRoots)}`,
  targetDigest: (args, ctx) => fileDigest(args.path, ctx),
  async run(args, ctx) {
    const { path } = await resolveInWorkspace(args.path, ctx.workspaceRoots, { kind: 'file' })
    const cap = Math.min(args.maxBytes ?? Infinity, toolsConfigOf(ctx).files.maxReadBytes)
    const { sha256, size, head } = await readCapped(path, cap, ctx.signal)
    const content = head.toString(args.encoding)
    const cut = size - head.length
    return {
      output: cut > 0 ? `${content}\n[${cut} of ${size} bytes not shown]` : content,
      data: { path, size, sha256, truncated: cut > 0, encoding: args.encoding, content },
      targetDigest: sha256,
    }
  },
  async verify(_args, result) {
    const d = result.data as { path: string; size: number; sha256: string }
    return {
      kind: 'sha256',
      summary: `read ${d.size} bytes, sha256 ${d.sha256.slice(0, 12)}`,
      detail: { path: d.path, size: d.size, sha256: d.sha256 },
    }
  },
}
