import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { exec } from '../../src/tools/exec.js'
import { ToolError } from '../../src/tools/tool.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function waitUntil(cond: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await new Promise((r) => setTimeout(r, 20))
  }
  return cond()
}

describe('exec', () => {
  it('passes arguments as an array, without a shell', async () => {
    const r = await exec('printf', ['%s|', 'a b', '$(echo x); rm -rf /', '*'])
    expect(r).toMatchObject({ code: 0, stdout: 'a b|$(echo x); rm -rf /|*|', truncatedBytes: 0 })
  })

  it('reports a non-zero exit and stderr without throwing', async () => {
    const r = await exec('sh', ['-c', 'echo oops >&2; exit 3'])
    expect(r.code).toBe(3)
    expect(r.stderr).toBe('oops\n')
  })

  it('throws a ToolError for a missing program', async () => {
    await expect(exec('definitely-not-a-program-uw', [])).rejects.toThrow(ToolError)
  })

  it('kills the whole process group on abort: the child and the grandchild it spawned are gone', async () => {
    const ac = new AbortController()
    // The child starts a grandchild (sleep) in the background and reports both PIDs, then waits.
    const script = 'sleep 300 & echo "$$ $!"; wait'
    let pids: number[] = []
    const running = exec('sh', ['-c', script], { signal: ac.signal, killGraceMs: 500 })
    // Read the PIDs from /proc: find the sh whose args match, then its sleep child.
    await waitUntil(() => {
      pids = findPids(script)
      return pids.length === 2
    })
    expect(pids).toHaveLength(2)
    expect(pids.every(alive)).toBe(true)
    ac.abort(new Error('timeout'))
    await expect(running).rejects.toThrow('timeout')
    expect(await waitUntil(() => !pids.some(alive))).toBe(true)
  })

  it('caps 100 MB of output to the first N bytes and counts the rest, with bounded memory', async () => {
    const total = 100 * 1024 * 1024
    const cap = 64 * 1024
    const before = process.memoryUsage()
    const r = await exec('head', ['-c', String(total), '/dev/zero'], { maxOutputBytes: cap })
    const after = process.memoryUsage()
    expect(r.code).toBe(0)
    expect(r.stdout.length).toBe(cap)
    expect(r.truncatedBytes).toBe(total - cap)
    // Nothing close to 100 MB was retained (external = Buffers outside the JS heap).
    expect(after.heapUsed + after.external - (before.heapUsed + before.external)).toBeLessThan(
      32 * 1024 * 1024,
    )
  })

  it('rejects at once with an already aborted signal', async () => {
    const ac = new AbortController()
    ac.abort(new Error('cancelled'))
    await expect(exec('true', [], { signal: ac.signal })).rejects.toThrow('cancelled')
  })
})

/** PIDs of the `sh -c <script>` process and its child, read from /proc. */
function findPids(script: string): number[] {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d))
  for (const p of procs) {
    let cmd = ''
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8')
    } catch {
      continue
    }
    if (cmd === `sh\0-c\0${script}\0`) {
      const kids = procs.filter((c) => {
        try {
          return readFileSync(`/proc/${c}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === p
        } catch {
          return false
        }
      })
      return kids.length ? [Number(p), ...kids.map(Number)] : []
    }
  }
  return []
}
