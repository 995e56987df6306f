import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { toolsConfigOf } from '../tools-config.js'
import type { ToolSpec } from '../tool.js'
import { describePath, resolveInWorkspace } from '../workspace.js'
import { walk, type WalkEntry } from './walk.js'

export const FileListArgs = z
  .object({
    path: z.string().min(1).max(4096).default('.'),
    recursive: z.boolean().default(false),
    includeHidden: z.boolean().default(false),
    maxEntries: z.number().int().positive().optional(),
  })
  .strict()

/**
 * `file_list`: entries of a directory in the workspace (type and size), optionally recursive.
 * Symlinks are listed, not followed. Capped by toolSettings.files.maxListEntries.
 *
 * @example
 *   await fileList.run({ path: 'src', recursive: true }, ctx)
 */
export const fileList: ToolSpec<typeof FileListArgs> = {
  name: 'file_list',
  category: 'file',
  description: 'List a workspace directory (type, size), optionally recursive; symlinks are not followed.',
  args: FileListArgs,
  access: 'read',
  timeoutMs: 15_000,
  target: (args, ctx) => `file:${describePath(args.path, ctx.workspaceRoots)}`,
  async run(args, ctx) {
    const cfg = toolsConfigOf(ctx).files
    const { path: dir } = await resolveInWorkspace(args.path, ctx.workspaceRoots, { kind: 'directory' })
    const cap = Math.min(args.maxEntries ?? Infinity, cfg.maxListEntries)
    const entries: Omit<WalkEntry, 'abs'>[] = []
    let truncated = false
    for await (const e of walk(dir, {
      recursive: args.recursive,
      includeHidden: args.includeHidden,
      ignoreDirs: cfg.ignoreDirs,
      signal: ctx.signal,
    })) {
      if (entries.length >= cap) {
        truncated = true
        break
      }
      entries.push({ rel: e.rel, type: e.type, size: e.size })
    }
    const mark = { file: '', directory: '/', symlink: '@', other: '?' }
    const output = [
      ...entries.map((e) => `${e.rel}${mark[e.type]}${e.type === 'file' ? `\t${e.size}` : ''}`),
      ...(truncated ? [`[stopped at ${cap} entries]`] : []),
    ].join('\n')
    return { output, data: { path: dir, entries, truncated } }
  },
  async verify(_args, result) {
    const d = result.data as { path: string; entries: unknown[] }
    return {
      kind: 'listing',
      summary: `${d.entries.length} entries`,
      detail: { path: d.path, sha256: sha256Hex(result.output) },
    }
  },
}
