import { spawn } from 'node:child_process'
import { ToolError } from './tool.js'

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

/**
 * Runs `file` with an argument array, never through a shell. The child leads its own process
 * group, so an abort (timeout or cancel) kills it and everything it spawned: SIGTERM to the group,
 * SIGKILL after `killGraceMs`. When the child exits normally, whatever it left running in its
 * group is killed too, so no orphan outlives a tool. Output is capped per stream.
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
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
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
    const onAbort = (): void => {
      if (aborted || child.pid === undefined) return
      aborted = true
      killGroup(child.pid, 'SIGTERM')
      killTimer = setTimeout(() => {
        if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL')
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
      // The leader is gone; kill anything it left in its group (grandchildren holding our pipes
      // would otherwise keep 'close' from firing and outlive the tool).
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL')
    })
    child.once('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort)
      if (killTimer) clearTimeout(killTimer)
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
