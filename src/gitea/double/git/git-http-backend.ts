import { spawn, type ChildProcess } from 'node:child_process'
import { Readable } from 'node:stream'

/** One smart-HTTP request, in the CGI terms `git http-backend` reads. */
export interface GitBackendRequest {
  method: string
  /** Path under the project root, e.g. `/alice/demo.git/info/refs`. */
  pathInfo: string
  /** Query string without `?`. */
  query: string
  contentType?: string
  contentLength?: string
  contentEncoding?: string
  /** The client's `Git-Protocol` header (protocol v2), passed on only when well formed. */
  gitProtocol?: string
  remoteAddr?: string
  /** The authenticated user, for the backend's logs (`REMOTE_USER`). */
  remoteUser?: string
  body: Readable | null
}

export interface GitBackendOptions {
  /** `GIT_PROJECT_ROOT`: only repositories under it are served. */
  projectRoot: string
  /** Sets `http.receivepack=true` for this request only; otherwise the backend refuses pushes. */
  allowPush: boolean
  /**
   * `core.hooksPath` for this request. The repositories' own hooks never run: without it the
   * hooks path is an empty value that names no directory.
   */
  hooksPath?: string
  /** Extra environment for hooks (names must not start with GIT_). */
  hookEnv?: Record<string, string>
  /** Running backends are added here (and removed on exit) so an owner can kill them on stop. */
  children?: Set<ChildProcess>
}

export interface GitBackendResponse {
  status: number
  headers: [string, string][]
  body: Readable
  /** Resolves when the backend process has exited (its work, e.g. a push, is complete). */
  exited: Promise<number | null>
}

// Gitea's own check on the Git-Protocol header (routers/web/repo/githttp.go).
const SAFE_GIT_PROTOCOL = /^[0-9a-zA-Z]+=[0-9a-zA-Z]+(:[0-9a-zA-Z]+=[0-9a-zA-Z]+)*$/

/** Splits a CGI answer's header block into the status and the headers. */
export function parseCgiHead(head: string): { status: number; headers: [string, string][] } {
  let status = 200
  const headers: [string, string][] = []
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const name = line.slice(0, i).trim()
    const value = line.slice(i + 1).trim()
    if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]) || 500
    else headers.push([name, value])
  }
  return { status, headers }
}

/**
 * Runs git's smart-HTTP CGI (`git http-backend`) for one request, in its own process group, with
 * a clean environment: no system or global git config, no repository hooks unless `hooksPath`
 * names the caller's own, and `http.receivepack` only when `allowPush`. The answer's headers are
 * parsed; its body streams.
 *
 * @example
 *   const res = await runGitHttpBackend(
 *     { method: 'GET', pathInfo: '/alice/demo.git/info/refs', query: 'service=git-upload-pack', body: null },
 *     { projectRoot: dir, allowPush: false },
 *   )
 */
export function runGitHttpBackend(
  req: GitBackendRequest,
  opts: GitBackendOptions,
): Promise<GitBackendResponse> {
  const config: [string, string][] = [
    ['http.receivepack', opts.allowPush ? 'true' : 'false'],
    ['http.uploadpack', 'true'],
    ['core.hooksPath', opts.hooksPath ?? '/dev/null/no-hooks'],
  ]
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...opts.hookEnv,
    GIT_PROJECT_ROOT: opts.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_COUNT: String(config.length),
    ...Object.fromEntries(
      config.flatMap(([key, value], i) => [
        [`GIT_CONFIG_KEY_${i}`, key],
        [`GIT_CONFIG_VALUE_${i}`, value],
      ]),
    ),
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: req.method,
    PATH_INFO: req.pathInfo,
    QUERY_STRING: req.query,
    CONTENT_TYPE: req.contentType ?? '',
    REMOTE_ADDR: req.remoteAddr ?? '127.0.0.1',
    REMOTE_USER: req.remoteUser ?? '',
    ...(req.contentLength ? { CONTENT_LENGTH: req.contentLength } : {}),
    ...(req.contentEncoding ? { HTTP_CONTENT_ENCODING: req.contentEncoding } : {}),
    ...(req.gitProtocol && SAFE_GIT_PROTOCOL.test(req.gitProtocol)
      ? { GIT_PROTOCOL: req.gitProtocol, HTTP_GIT_PROTOCOL: req.gitProtocol }
      : {}),
  }
  const child = spawn('git', ['http-backend'], { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
  opts.children?.add(child)
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      opts.children?.delete(child)
      resolve(code)
    })
    child.once('error', () => {
      opts.children?.delete(child)
      resolve(null)
    })
  })
  child.stderr.resume()
  child.stdin.on('error', () => undefined)
  if (req.body) req.body.pipe(child.stdin)
  else child.stdin.end()

  return new Promise((resolve) => {
    // The CGI answer is "headers, blank line, body": the headers are parsed, the body streamed.
    let head = Buffer.alloc(0)
    let done = false
    const body = new Readable({ read: () => child.stdout.resume() })
    const answer = (status: number, headers: [string, string][]) => {
      done = true
      resolve({ status, headers, body, exited })
    }
    child.stdout.on('data', (chunk: Buffer) => {
      if (done) {
        if (!body.push(chunk)) child.stdout.pause()
        return
      }
      head = Buffer.concat([head, chunk])
      const text = head.toString('latin1')
      const end = text.search(/\r?\n\r?\n/)
      if (end < 0) return
      const sep = /\r?\n\r?\n/.exec(text.slice(end))?.[0].length ?? 2
      const { status, headers } = parseCgiHead(text.slice(0, end))
      const rest = head.subarray(end + sep)
      if (rest.length > 0) body.push(rest)
      answer(status, headers)
    })
    child.stdout.on('end', () => {
      if (!done) answer(502, [])
      body.push(null)
    })
    child.once('error', () => {
      if (!done) answer(500, [])
      body.push(null)
    })
  })
}

/** Kills every backend still running, with its whole process group. */
export function killGitBackends(children: Set<ChildProcess>): void {
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  children.clear()
}
