import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { exec, stragglers } from '../../src/tools/exec.js'
import { ToolError } from '../../src/tools/tool.js'
import { tempDir } from './tool-context.js'

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Alive and not a zombie (a killed orphan stays a zombie until init reaps it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))
  } catch {
    return false
  }
}

// Every test child carries its own marker, so whatever a failing test leaves is found and killed.
const marks: string[] = []
const cleanups: (() => Promise<void>)[] = []
function testEnv(): NodeJS.ProcessEnv {
  const mark = randomBytes(8).toString('hex')
  marks.push(mark)
  return { PATH: process.env.PATH, UW_TEST_MARK: mark }
}
afterEach(async () => {
  for (const mark of marks.splice(0))
    for (const pid of stragglers(`UW_TEST_MARK=${mark}`)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
  await Promise.all(cleanups.splice(0).map((c) => c()))
})

/** PIDs a test script appended to `file`, one per line, once there are `n` of them. */
async function pidsIn(file: string, n: number): Promise<number[]> {
  let pids: number[] = []
  await waitUntil(() => {
    try {
      pids = readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number)
    } catch {
      pids = []
    }
    return pids.length >= n
  })
  return pids
}

async function pidFile(): Promise<string> {
  const t = await tempDir('uw-exec-')
  cleanups.push(t.cleanup)
  return path.join(t.dir, 'pids')
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

  // Processes that leave the group: setsid (a new session), a double fork into a new session (the
  // daemon pattern: the parent exits, the child is reparented to init), and a child that cleared
  // its environment (env -i) under a parent that carries the marker.
  const ESCAPES = `
setsid sleep 1000 >/dev/null 2>&1 & echo $! >> "$F"
setsid sh -c 'sleep 1001 >/dev/null 2>&1 & echo $! >> "$F"'
setsid sh -c 'env -i sleep 1002 & echo $! >> "$F"; echo $$ >> "$F"; wait' >/dev/null 2>&1 &
setsid sleep 1003 & echo $! >> "$F"
while [ "$(wc -l < "$F")" -lt 5 ]; do sleep 0.01; done
`

  it.runIf(process.platform === 'linux')(
    'on a timeout, kills what escaped the group too: setsid, double fork, an env-cleared child',
    async () => {
      const F = await pidFile()
      const ac = new AbortController()
      const r = exec('sh', ['-c', `${ESCAPES}\necho $$ >> "$F"; sleep 300`], {
        env: { ...testEnv(), F },
        signal: ac.signal,
        killGraceMs: 500,
      })
      const pids = await pidsIn(F, 6)
      expect(pids).toHaveLength(6)
      expect(pids.every(running)).toBe(true)
      // Really escaped: none of the sleeps is in the leader's process group.
      const leader = pids[5] as number
      const pgrp = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ')[2]
      expect(pids.slice(0, 5).filter((p) => pgrp(p) === String(leader))).toEqual([])
      ac.abort(new Error('timeout'))
      await expect(r).rejects.toThrow('timeout')
      expect(await waitUntil(() => !pids.some(running), 3_000)).toBe(true)
    },
  )

  it.runIf(process.platform === 'linux')(
    'on a normal exit, returns only once what escaped the group is dead (one even held stdout)',
    async () => {
      const F = await pidFile()
      const r = await exec('sh', ['-c', `${ESCAPES}\necho done`], { env: { ...testEnv(), F } })
      expect(r).toMatchObject({ code: 0, stdout: 'done\n' })
      const pids = await pidsIn(F, 5)
      expect(pids).toHaveLength(5)
      expect(pids.filter(running)).toEqual([])
    },
  )

  it.runIf(process.platform === 'linux')(
    'stragglers matches the whole marker, and takes in the descendants of what it matched',
    async () => {
      const mark = randomBytes(8).toString('hex')
      const F = await pidFile()
      const child = spawn('sh', ['-c', 'env -i sleep 100 & echo $! > "$F"; wait'], {
        env: { PATH: process.env.PATH, UW_TEST_MARK: mark, F },
        stdio: 'ignore',
      })
      marks.push(mark)
      const [grandchild] = await pidsIn(F, 1)
      expect(stragglers(`UW_TEST_MARK=${mark}`).sort()).toEqual([child.pid, grandchild].sort())
      expect(stragglers(`UW_TEST_MARK=${mark.slice(0, -1)}`)).toEqual([])
      expect(stragglers(`UW_TEST_MARK=${mark}`, [], child.pid)).toHaveLength(2)
    },
  )

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
