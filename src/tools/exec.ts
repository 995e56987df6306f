import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { ToolError } from './tool.js'

/**
 * Set in every child's environment to a fresh random value per exec. The environment is inherited
 * through fork, exec, `setsid` and double forks, so it finds what a tool started after the
 * process group no longer does.
 */
export const EXEC_MARKER_VAR = 'UW_EXEC_ID'

export interface ExecOptions {
  cwd?: string
  /** The child's whole environment (not merged with ours unless the caller does it). */
  env?: NodeJS.ProcessEnv
  /** Aborting kills the child's whole process group. */
  signal?: AbortSignal
  /** Bytes kept per stream; the rest is counted in `truncatedBytes` and dropped. Default 1 MiB. */
  maxOutputBytes?: number
  /** Time between SIGTERM and SIGKILL of the group after an abort. Default 2 s. */
  killGraceMs?: number
  /** Written to the child's stdin, which is then closed. */
  input?: string | Buffer
}

export interface ExecResult {
  /** Exit code, or null when a signal ended the child. */
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Bytes of stdout + stderr that were cut by the cap. */
  truncatedBytes: number
}

/** A stream sink that keeps the first `cap` bytes and only counts the rest. */
class CappedBuffer {
  private chunks: Buffer[] = []
  private kept = 0
  dropped = 0
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = this.cap - this.kept
    if (room <= 0) {
      this.dropped += chunk.length
      return
    }
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room)
    this.chunks.push(part)
    this.kept += part.length
    this.dropped += chunk.length - part.length
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8')
  }
}

/** Signals a process group, ignoring "no such process" (the group is already gone). */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

// Linux: /proc shows each process's environment (ours only, unless root) and parent. Elsewhere
// exec falls back to the process group alone.
const HAS_PROC = process.platform === 'linux' && existsSync('/proc/self/environ')

function readProcNumber(file: string, field: number): number | undefined {
  try {
    const n = Number(readFileSync(file, 'latin1').trim().split(/\s+/)[field])
    return Number.isInteger(n) && n > 0 ? n : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether a PID was allocated at or after `since`, judged against the newest PID (read after the
 * listing, so every listed PID is at most that one). Linux hands PIDs out in increasing order,
 * wrapping at pid_max, so whatever a child started is in this window; reading only those keeps the
 * look after every exec to a few files on a busy host. Undefined when the newest PID is unknown.
 */
function allocatedSince(since: number): ((pid: number) => boolean) | undefined {
  const last = readProcNumber('/proc/loadavg', 4)
  if (last === undefined) return undefined
  return since <= last ? (pid) => pid >= since && pid <= last : (pid) => pid >= since || pid <= last
}

/**
 * Live processes (not zombies) that carry `marker` (`NAME=value`) in their environment, plus
 * every descendant of those and of `roots` (which catches a child that cleared its environment
 * while its parent is still ours). With `since` (the PID of the tool's child) only PIDs allocated
 * since then are looked at. One pass over /proc; a process that exits meanwhile is skipped.
 */
export function stragglers(marker: string, roots: readonly number[] = [], since?: number): number[] {
  if (!HAS_PROC) return []
  const needle = Buffer.from(`${marker}\0`)
  const parent = new Map<number, number>()
  const found = new Set<number>(roots)
  let listed: string[]
  try {
    listed = readdirSync('/proc')
  } catch {
    return []
  }
  const recent = since === undefined ? undefined : allocatedSince(since)
  const pids: number[] = []
  for (const name of listed) {
    const pid = Number(name)
    if (Number.isInteger(pid) && pid !== process.pid && (!recent || recent(pid))) pids.push(pid)
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so cut at the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (state === 'Z' || state === 'X') continue
      parent.set(pid, Number(ppid))
      const env = readFileSync(`/proc/${pid}/environ`)
      const at = env.indexOf(needle)
      if (at === 0 || (at > 0 && env[at - 1] === 0)) found.add(pid)
    } catch {
      // No such process, gone meanwhile, or another user's (environ unreadable): not ours.
    }
  }
  // Descendants: repeat until no process joins (a parent may come after its child in the list).
  for (let grew = true; grew;) {
    grew = false
    for (const [pid, ppid] of parent)
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid)
        grew = true
      }
  }
  for (const r of roots) if (!parent.has(r)) found.delete(r)
  return [...found]
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // Already gone (ESRCH), or not ours to signal (EPERM).
  }
}

/**
 * SIGKILLs every straggler of `marker` and looks again until none is left: a process may fork
 * between the look and the kill, and its child carries the marker too. Bounded, so a process stuck
 * in the kernel cannot hold a tool forever.
 */
async function sweep(marker: string, since: number, roots: readonly number[] = []): Promise<void> {
  for (let pass = 0; pass < 50; pass++) {
    const pids = stragglers(marker, pass === 0 ? roots : [], since)
    if (pids.length === 0) return
    for (const pid of pids) killPid(pid, 'SIGKILL')
    await new Promise((r) => setTimeout(r, pass < 3 ? 1 : 10))
  }
}

/**
 * Runs `file` with an argument array, never through a shell. The child leads its own process
 * group, so an abort (timeout or cancel) kills it and everything it spawned: SIGTERM to the group,
 * SIGKILL after `killGraceMs`. When the child exits normally, whatever it left running in its
 * group is killed too, so no orphan outlives a tool. A process that left the group (`setsid`, a
 * double fork into a new session) is found by the `UW_EXEC_ID` marker in its environment and by
 * parentage in /proc (see stragglers) and killed the same way; the result is only returned once
 * nothing the tool started is left. Output is capped per stream.
 *
 * Resolves with the exit status (a non-zero code is not an error here; callers decide). Rejects
 * with a ToolError when the program cannot be started, and with the signal's reason on abort.
 *
 * @example
 *   const r = await exec('git', ['-C', repo, 'status', '--porcelain'], { signal: ctx.signal })
 *   if (r.code !== 0) throw new ToolError(r.stderr)
 */
export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const { signal, maxOutputBytes = 1024 * 1024, killGraceMs = 2_000 } = options
  return new Promise<ExecResult>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal))
      return
    }
    const execId = randomBytes(16).toString('hex')
    const marker = `${EXEC_MARKER_VAR}=${execId}`
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: { ...(options.env ?? process.env), [EXEC_MARKER_VAR]: execId },
      detached: true,
      shell: false,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    })
    const out = new CappedBuffer(maxOutputBytes)
    const err = new CappedBuffer(maxOutputBytes)
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stderr.on('data', (c: Buffer) => err.push(c))
    // A child that exits without reading stdin makes our write fail with EPIPE; that is not ours to report.
    child.stdin.on('error', () => {})
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()

    let aborted = false
    let killTimer: NodeJS.Timeout | undefined
    let swept: Promise<void> = Promise.resolve()
    // The leader's PID names it only until Node reaps it ('exit'); after that it may be reused.
    const leader = (): number[] =>
      child.pid !== undefined && child.exitCode === null && child.signalCode === null ? [child.pid] : []
    const onAbort = (): void => {
      if (aborted || child.pid === undefined) return
      aborted = true
      killGroup(child.pid, 'SIGTERM')
      for (const pid of stragglers(marker, leader(), child.pid)) killPid(pid, 'SIGTERM')
      killTimer = setTimeout(() => {
        if (child.pid === undefined) return
        killGroup(child.pid, 'SIGKILL')
        const since = child.pid
        swept = swept.then(() => sweep(marker, since, leader()))
      }, killGraceMs)
      killTimer.unref()
    }
    signal?.addEventListener('abort', onAbort, { once: true })

    child.once('error', (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort)
      if (killTimer) clearTimeout(killTimer)
      const msg = e.code === 'ENOENT' ? `command not found: ${file}` : `cannot run ${file}: ${e.message}`
      reject(new ToolError(msg, false, { cause: e }))
    })
    child.once('exit', () => {
      // The leader is gone; kill anything it left, in its group or not (grandchildren holding our
      // pipes would otherwise keep 'close' from firing and outlive the tool).
      if (child.pid === undefined) return
      killGroup(child.pid, 'SIGKILL')
      const since = child.pid
      swept = swept.then(() => sweep(marker, since))
    })
    child.once('close', async (code, sig) => {
      signal?.removeEventListener('abort', onAbort)
      if (killTimer) clearTimeout(killTimer)
      await swept
      if (aborted && signal) {
        reject(abortReason(signal))
        return
      }
      resolve({
        code,
        signal: sig,
        stdout: out.text(),
        stderr: err.text(),
        truncatedBytes: out.dropped + err.dropped,
      })
    })
  })
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError')
}

/** The last `max` characters of a text, for error messages built from stderr. */
export function tail(text: string, max = 2000): string {
  const t = text.trim()
  return t.length <= max ? t : `…${t.slice(-max)}`
}
