import { readFile } from 'node:fs/promises'
import os from 'node:os'
import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import type { ToolSpec } from '../tool.js'

export const SystemInfoArgs = z.object({}).strict()

/** Parses /proc/meminfo into kB values keyed by field name. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const m = /^(\w[\w()]*):\s+(\d+)/.exec(line)
    if (m) out[m[1] as string] = Number(m[2])
  }
  return out
}

/**
 * `system_info`: host, OS, CPUs, memory (from /proc/meminfo when present), load and uptime.
 *
 * @example
 *   await systemInfo.run({}, ctx) // data: { hostname, loadavg: [..], memory: { totalKb, availableKb } }
 */
export const systemInfo: ToolSpec<typeof SystemInfoArgs> = {
  name: 'system_info',
  category: 'system',
  description: 'Host name, OS, CPUs, memory, load average and uptime.',
  args: SystemInfoArgs,
  access: 'read',
  timeoutMs: 5_000,
  target: () => undefined,
  async run() {
    let meminfo: Record<string, number> = {}
    try {
      meminfo = parseMeminfo(await readFile('/proc/meminfo', 'utf8'))
    } catch {
      // Not Linux: os.* still gives totals.
    }
    const cpus = os.cpus()
    const data = {
      hostname: os.hostname(),
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      loadavg: os.loadavg(),
      uptimeSeconds: Math.round(os.uptime()),
      memory: {
        totalKb: meminfo.MemTotal ?? Math.round(os.totalmem() / 1024),
        availableKb: meminfo.MemAvailable ?? Math.round(os.freemem() / 1024),
        swapTotalKb: meminfo.SwapTotal ?? 0,
        swapFreeKb: meminfo.SwapFree ?? 0,
      },
    }
    const m = data.memory
    const output = [
      `${data.hostname} ${data.platform} ${data.release} ${data.arch}`,
      `cpus: ${data.cpus} × ${data.cpuModel}`,
      `load: ${data.loadavg.map((l) => l.toFixed(2)).join(' ')}`,
      `memory: ${Math.round(m.availableKb / 1024)} MiB available of ${Math.round(m.totalKb / 1024)} MiB`,
      `uptime: ${data.uptimeSeconds} s`,
    ].join('\n')
    return { output, data }
  },
  async verify(_args, result) {
    return {
      kind: 'snapshot',
      summary: 'read from os and /proc/meminfo',
      detail: { sha256: sha256Hex(result.output) },
    }
  },
}
