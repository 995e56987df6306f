// Event-loop stalls, here and in an idle sibling process: a timer ticks every 2 ms and every gap
// longer than STALL_MS is noted (wall-clock start, length). A stall seen by both at the same time
// is the machine (the 2 shared cores were busy elsewhere); one seen only here is this process's
// own work (GC, a long synchronous task).
import { spawn } from 'node:child_process'

const STALL_MS = 20
const TICK_MS = 2

/** One stall: when it started (epoch ms) and how long the loop was away (ms). */
export interface Stall {
  at: number
  ms: number
}

const PROBE = `
const gaps = []
let last = performance.timeOrigin + performance.now()
setInterval(() => {
  const now = performance.timeOrigin + performance.now()
  if (now - last > ${STALL_MS}) gaps.push({ at: last, ms: now - last - ${TICK_MS} })
  last = now
}, ${TICK_MS})
process.stdin.on('data', () => { process.stdout.write(JSON.stringify(gaps)); process.exit(0) })
process.stdout.write('ready\\n')
`

function localProbe(): { stop(): Stall[] } {
  const gaps: Stall[] = []
  let last = performance.timeOrigin + performance.now()
  const timer = setInterval(() => {
    const now = performance.timeOrigin + performance.now()
    if (now - last > STALL_MS) gaps.push({ at: last, ms: now - last - TICK_MS })
    last = now
  }, TICK_MS)
  return {
    stop() {
      clearInterval(timer)
      return gaps
    },
  }
}

/** What the probes saw over one measurement. */
export interface StallReport {
  /** Stalls of this process. */
  here: Stall[]
  /** Stalls of an idle Node process on the same machine. */
  sibling: Stall[]
  /** Stalls of this process that overlap one of the sibling's. */
  shared: Stall[]
}

/**
 * Starts both probes; `stop` returns what they saw.
 *
 * @example
 *   const probe = await startStallProbe()
 *   // ... load ...
 *   const { here, sibling, shared } = await probe.stop()
 */
export async function startStallProbe(): Promise<{ stop(): Promise<StallReport> }> {
  const child = spawn(process.execPath, ['-e', PROBE], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8')
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    const onData = (chunk: string) => {
      out += chunk
      if (out.includes('ready\n')) {
        out = ''
        child.stdout.off('data', onData)
        resolve()
      }
    }
    child.stdout.on('data', onData)
  })
  const local = localProbe()
  return {
    async stop() {
      const here = local.stop()
      child.stdout.on('data', (chunk: string) => (out += chunk))
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.stdin.write('stop\n')
      await exited
      const sibling = JSON.parse(out) as Stall[]
      const shared = here.filter((h) => sibling.some((s) => s.at < h.at + h.ms && h.at < s.at + s.ms))
      return { here, sibling, shared }
    },
  }
}
