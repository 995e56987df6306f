import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { exec, tail } from '../exec.js'
import { ToolError, type ToolSpec } from '../tool.js'
import { resolveInWorkspace } from '../workspace.js'

export const DiskUsageArgs = z
  .object({
    /** A path in the workspace whose filesystem to report; the workspace roots' when absent. */
    path: z
      .string()
      .min(1)
      .max(4096)
      .refine((p) => !p.startsWith('-'), 'must not start with "-"')
      .optional(),
  })
  .strict()

export interface DiskRow {
  filesystem: string
  sizeKb: number
  usedKb: number
  availableKb: number
  usePercent: number
  mountedOn: string
}

/** Parses POSIX `df -P -k` output (header skipped; mount points may contain spaces). */
export function parseDf(text: string): DiskRow[] {
  return text
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      const m = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%\s+(.+)$/.exec(line)
      if (!m) return []
      return [
        {
          filesystem: m[1] as string,
          sizeKb: Number(m[2]),
          usedKb: Number(m[3]),
          availableKb: Number(m[4]),
          usePercent: Number(m[5]),
          mountedOn: m[6] as string,
        },
      ]
    })
}

/**
 * `disk_usage`: size, used, available and use% from `df -P -k` of the filesystems holding a
 * workspace path, or the house's workspace roots. The path is confined to the workspace roots
 * like the file tools' paths, so the tool cannot be used to probe what exists elsewhere.
 *
 * @example
 *   await diskUsage.run({ path: 'builds' }, ctx)
 */
export const diskUsage: ToolSpec<typeof DiskUsageArgs> = {
  name: 'disk_usage',
  category: 'system',
  description:
    'Filesystem size, used and available space (df -P -k) for a workspace path, or the workspace roots.',
  args: DiskUsageArgs,
  access: 'read',
  timeoutMs: 10_000,
  target: () => undefined,
  async run(args, ctx) {
    const asked = args.path === undefined ? ctx.workspaceRoots : [args.path]
    const paths = await Promise.all(
      asked.map(async (p) => (await resolveInWorkspace(p, ctx.workspaceRoots)).path),
    )
    const argv = ['-P', '-k', '--', ...new Set(paths)]
    const r = await exec('df', argv, { signal: ctx.signal, env: { PATH: process.env.PATH, LC_ALL: 'C' } })
    // Two roots on one filesystem are one row.
    const seen = new Set<string>()
    const rows = parseDf(r.stdout).filter((d) => !seen.has(d.mountedOn) && Boolean(seen.add(d.mountedOn)))
    // df exits 1 when one of many filesystems is unreadable; only fail when nothing came back.
    if (r.code !== 0 && rows.length === 0)
      throw new ToolError(`df failed: ${tail(r.stderr)}`, false, { fault: 'dependency' })
    const output = [
      'FILESYSTEM\tSIZE_KB\tUSED_KB\tAVAIL_KB\tUSE%\tMOUNT',
      ...rows.map((d) =>
        [d.filesystem, d.sizeKb, d.usedKb, d.availableKb, `${d.usePercent}%`, d.mountedOn].join('\t'),
      ),
    ].join('\n')
    return { output, data: { filesystems: rows } }
  },
  async verify(_args, result) {
    return { kind: 'snapshot', summary: 'read from df', detail: { sha256: sha256Hex(result.output) } }
  },
}
