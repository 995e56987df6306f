import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { exec, tail } from '../exec.js'
import { ToolError, type ToolSpec } from '../tool.js'

export const ProcessListArgs = z
  .object({
    /** Keep processes whose command line contains this text. */
    filter: z.string().max(200).optional(),
    sortBy: z.enum(['cpu', 'mem', 'pid']).default('cpu'),
    limit: z.number().int().min(1).max(2000).default(50),
  })
  .strict()

export interface ProcessRow {
  pid: number
  ppid: number
  user: string
  cpu: number
  mem: number
  rssKb: number
  elapsedSeconds: number
  args: string
}

/** Parses `ps -e -o pid=,ppid=,user=,pcpu=,pmem=,rss=,etimes=,args=` output. */
export function parsePs(text: string): ProcessRow[] {
  const rows: ProcessRow[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line)
    if (!m) continue
    rows.push({
      pid: Number(m[1]),
      ppid: Number(m[2]),
      user: m[3] as string,
      cpu: Number(m[4]),
      mem: Number(m[5]),
      rssKb: Number(m[6]),
      elapsedSeconds: Number(m[7]),
      args: m[8] as string,
    })
  }
  return rows
}

/**
 * `process_list`: running processes from `ps`, sorted and optionally filtered.
 *
 * @example
 *   await processList.run({ filter: 'node', sortBy: 'mem', limit: 10 }, ctx)
 */
export const processList: ToolSpec<typeof ProcessListArgs> = {
  name: 'process_list',
  category: 'system',
  description: 'Running processes (pid, user, cpu, memory, command line), sorted and filtered.',
  args: ProcessListArgs,
  access: 'read',
  timeoutMs: 10_000,
  target: () => undefined,
  async run(args, ctx) {
    const r = await exec('ps', ['-e', '-ww', '-o', 'pid=,ppid=,user=,pcpu=,pmem=,rss=,etimes=,args='], {
      signal: ctx.signal,
      env: { PATH: process.env.PATH, LC_ALL: 'C' },
      maxOutputBytes: 8 * 1024 * 1024,
    })
    if (r.code !== 0) throw new ToolError(`ps failed: ${tail(r.stderr)}`, false, { fault: 'dependency' })
    let rows = parsePs(r.stdout)
    if (args.filter) rows = rows.filter((p) => p.args.includes(args.filter as string))
    const key = {
      cpu: (p: ProcessRow) => -p.cpu,
      mem: (p: ProcessRow) => -p.rssKb,
      pid: (p: ProcessRow) => p.pid,
    }[args.sortBy]
    rows.sort((a, b) => key(a) - key(b))
    const total = rows.length
    rows = rows.slice(0, args.limit)
    const output = [
      'PID\tPPID\tUSER\t%CPU\t%MEM\tRSS_KB\tCOMMAND',
      ...rows.map((p) => [p.pid, p.ppid, p.user, p.cpu, p.mem, p.rssKb, p.args].join('\t')),
      `(${rows.length} of ${total} processes)`,
    ].join('\n')
    return { output, data: { total, processes: rows } }
  },
  async verify(_args, result) {
    return { kind: 'snapshot', summary: 'read from ps', detail: { sha256: sha256Hex(result.output) } }
  },
}
