import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { Harness, House } from '../../src/harness/index.js'
import { exec } from '../../src/tools/exec.js'
import { testTool } from './test-tools.js'

/** Running, not merely a zombie waiting for a parent (maybe PID 1 of a container) to reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!alive(pid)) return true
    await delay(20)
  }
  return false
}

/** A tool whose child spawns a grandchild; both write their pids and sleep. */
function sleeper(pidFile: string) {
  return testTool(
    'sleeper',
    async (_a) => {
      throw new Error('replaced below')
    },
    {
      timeoutMs: 300,
      run: async (_args, ctx) => {
        const out = await exec(
          'sh',
          ['-c', `sleep 30 & echo $! > ${pidFile}.grandchild; echo $$ > ${pidFile}.child; wait`],
          { signal: ctx.signal, killGraceMs: 200 },
        )
        return { output: out.stdout }
      },
    },
  )
}

async function readPid(path: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const n = Number(readFileSync(path, 'utf8').trim())
      if (n > 0) return n
    } catch {
      // not written yet
    }
    await delay(20)
  }
  throw new Error(`no pid in ${path}`)
}

describe('timeouts kill the whole process group', () => {
  it('a timed-out child and the grandchild it spawned are both gone', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'uw-timeout-')), 'pid')
    const h = new Harness({ house: House.ALLEGRO, tools: [sleeper(pidFile)] })
    const r = await h.execute('sleeper', {}, { requestedBy: 'b' })
    expect(r.status).toBe('timeout')
    expect(r.error?.reason).toContain('300 ms')
    expect(r.attempts).toBe(1)
    const child = await readPid(`${pidFile}.child`)
    const grandchild = await readPid(`${pidFile}.grandchild`)
    expect(await gone(child)).toBe(true)
    expect(await gone(grandchild)).toBe(true)
  })

  it('a caller abort ends as cancelled, not timeout, and kills the group too', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'uw-cancel-')), 'pid')
    const tool = { ...sleeper(pidFile), timeoutMs: 20_000 }
    const h = new Harness({ house: House.ALLEGRO, tools: [tool] })
    const controller = new AbortController()
    const pending = h.execute('sleeper', {}, { requestedBy: 'b', signal: controller.signal })
    const grandchild = await readPid(`${pidFile}.grandchild`)
    controller.abort()
    const r = await pending
    expect(r.status).toBe('cancelled')
    expect(await gone(grandchild)).toBe(true)
  })

  it('a tool that ignores its signal still times out', async () => {
    const stubborn = testTool('stubborn', () => new Promise(() => undefined), { timeoutMs: 50 })
    const r = await new Harness({ house: House.ALLEGRO, tools: [stubborn] }).execute(
      'stubborn',
      {},
      { requestedBy: 'b' },
    )
    expect(r.status).toBe('timeout')
  })

  it('house timeouts override the tool default', async () => {
    const stubborn = testTool('stubborn', () => new Promise(() => undefined), { timeoutMs: 60_000 })
    const h = new Harness({
      house: House.ALLEGRO,
      tools: [stubborn],
      config: { houses: { allegro: { timeouts: { stubborn: 40 } } } },
    })
    const r = await h.execute('stubborn', {}, { requestedBy: 'b' })
    expect(r.status).toBe('timeout')
    expect(r.error?.reason).toContain('40 ms')
  })
})
