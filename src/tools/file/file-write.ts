import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type ToolContext, type ToolSpec } from '../tool.js'
import { describePath, gitRefusal, isDotGitName, resolveInWorkspace } from '../workspace.js'
import { fileDigest, readCapped } from './file-digest.js'

export const FileWriteArgs = z
  .object({
    path: z.string().min(1).max(4096),
    content: z.string(),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
    /** Create missing parent directories (inside the roots). */
    createDirs: z.boolean().default(false),
  })
  .strict()

/**
 * Creates missing parents one level at a time, re-checking confinement (and the git guard) at each
 * level. A missing name that is `.git` in any spelling is refused before the first mkdir, so a
 * refused write leaves no directories behind.
 */
async function ensureParent(userPath: string, ctx: ToolContext): Promise<void> {
  const first = ctx.workspaceRoots[0] ?? process.cwd()
  const lexical = path.resolve(first, userPath)
  if (lexical.split(path.sep).some(isDotGitName)) throw gitRefusal(userPath, 'named .git or inside .git')
  const parent = path.dirname(lexical)
  const missing: string[] = []
  let dir = parent
  for (;;) {
    try {
      await resolveInWorkspace(dir, ctx.workspaceRoots, { kind: 'directory' })
      break
    } catch (err) {
      if (!(err instanceof ToolError) || !/no such file/.test(err.message)) throw err
      missing.unshift(dir)
      dir = path.dirname(dir)
    }
  }
  for (const d of missing) {
    await resolveInWorkspace(d, ctx.workspaceRoots, { allowMissing: true })
    await mkdir(d).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e
    })
  }
}

/**
 * `file_write`: atomic write inside the workspace — temp file in the same directory, fsync,
 * rename over the target, fsync the directory. Verified by re-reading: the file's sha256 equals
 * the sha256 of what was written.
 *
 * @example
 *   await fileWrite.run({ path: 'notes/today.md', content: '# Today\n', createDirs: true }, ctx)
 */
export const fileWrite: ToolSpec<typeof FileWriteArgs> = {
  name: 'file_write',
  category: 'file',
  description:
    'Write a file in the workspace atomically (temp + fsync + rename); verified by re-read sha256.',
  args: FileWriteArgs,
  access: 'write',
  timeoutMs: 15_000,
  target: (args, ctx) => `file:${describePath(args.path, ctx.workspaceRoots)}`,
  targetDigest: (args, ctx) => fileDigest(args.path, ctx),
  async run(args, ctx) {
    const data = Buffer.from(args.content, args.encoding)
    const cap = toolsConfigOf(ctx).files.maxWriteBytes
    if (data.length > cap)
      throw new ToolError(
        `content is ${data.length} bytes; the cap is ${cap} (toolSettings.files.maxWriteBytes)`,
      )
    if (args.createDirs) await ensureParent(args.path, ctx)
    const target = await resolveInWorkspace(args.path, ctx.workspaceRoots, {
      allowMissing: true,
      kind: 'file',
    })
    const dir = path.dirname(target.path)
    const tmp = path.join(dir, `.${path.basename(target.path)}.${randomBytes(6).toString('hex')}.tmp`)
    // 'wx' fails if the name exists, so a planted symlink at the temp name cannot redirect the write.
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(data)
      await fh.sync()
      await fh.close()
      await chmod(tmp, target.stats ? target.stats.mode & 0o7777 : 0o644)
      await rename(tmp, target.path)
    } catch (err) {
      await fh.close().catch(() => {})
      await unlink(tmp).catch(() => {})
      throw new ToolError(`write failed: ${(err as Error).message}`, false, { cause: err })
    }
    const dh = await open(dir, 'r')
    try {
      await dh.sync()
    } finally {
      await dh.close()
    }
    const sha256 = sha256Hex(data)
    return {
      output: `wrote ${data.length} bytes to ${target.path} (sha256 ${sha256.slice(0, 12)})`,
      data: { path: target.path, size: data.length, sha256 },
      targetDigest: sha256,
    }
  },
  async verify(_args, result, ctx) {
    const d = result.data as { path: string; sha256: string }
    const reread = await readCapped(d.path, 0, ctx.signal)
    if (reread.sha256 !== d.sha256) return undefined
    return {
      kind: 'sha256-reread',
      summary: `re-read ${reread.size} bytes, sha256 ${reread.sha256.slice(0, 12)} matches`,
      detail: { path: d.path, written: d.sha256, reread: reread.sha256, size: reread.size },
    }
  },
}
