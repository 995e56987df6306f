import { spawn } from 'node:child_process'
import { ToolError } from '../tools/tool.js'

/** What a finished child produced. */
export interface ProcessOutput {
  stdout: string
  stderr: string
  exitCode: number | null
  signal: NodeJS.Signals | null
}

/**
 * Runs a program (argv array, never a shell) in its own process group and, when `signal` aborts,
 * kills the whole group (SIGTERM, then SIGKILL after `killGraceMs`), so grandchildren die too.
 * Rejects with the abort reason on abort; resolves with the output otherwise (a non-zero exit is
 * an ordinary result for the caller to judge).
 *
 * @example
 *   const out = await runProcessGroup('sh', ['-c', 'sleep 5 & wait'], { signal: ctx.signal })
 */
export function runProcessGroup(
  file: string,
  args: readonly string[],
  opts: {
    signal?: AbortSignal
    cwd?: string
    env?: NodeJS.ProcessEnv
    maxBytes?: number
    killGraceMs?: number
  } = {},
): Promise<ProcessOutput> {
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(opts.signal.reason)
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      detached: true, // own process group: kill(-pid) reaches every descendant
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let size = 0
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (size >= maxBytes) return
      size += chunk.length
      into.push(chunk)
    }
    child.stdout.on('data', collect(out))
    child.stderr.on('data', collect(err))
    let killTimer: NodeJS.Timeout | undefined
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig)
      } catch {
        // The group is already gone.
      }
    }
    const onAbort = () => {
      killGroup('SIGTERM')
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? 2000)
      killTimer.unref()
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    child.on('error', (e) => {
      opts.signal?.removeEventListener('abort', onAbort)
      reject(new ToolError(`cannot run ${file}: ${e.message}`, false, { cause: e }))
    })
    child.on('close', (exitCode, signal) => {
      opts.signal?.removeEventListener('abort', onAbort)
      // A TERM'd leader may leave stragglers that ignored TERM: finish them now.
      if (opts.signal?.aborted) {
        killGroup('SIGKILL')
        if (killTimer) clearTimeout(killTimer)
        return reject(opts.signal.reason)
      }
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode,
        signal,
      })
    })
  })
}
