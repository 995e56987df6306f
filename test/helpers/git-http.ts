// A real git server over real HTTP for tests: a small node HTTP server that runs `git http-backend`
// (git's own smart-HTTP CGI) once per request. Fetch, clone, ls-remote and push all work against it,
// so git tools can be tested with http(s) remotes, the only kind they accept.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface GitHttpRequest {
  method: string
  /** Path and query, as requested. */
  url: string
  status: number
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string
  host: string
  port: number
  /** The URL of a repository under the project root, e.g. `repoUrl('remote.git')`. */
  repoUrl(name: string): string
  /** Every request served so far, in order. */
  requests: GitHttpRequest[]
  /** Closes the server and kills any backend still running (its whole process group). */
  stop(): Promise<void>
}

export interface GitHttpOptions {
  /** Directory whose repositories are served (`GIT_PROJECT_ROOT`). */
  projectRoot: string
  /** Accept pushes (`http.receivepack=true` for the backend). Default true. */
  allowPush?: boolean
  /** Address to listen on. Default 127.0.0.1. */
  listenHost?: string
}

/** Splits a CGI answer into status, headers and the start of the body. */
function parseCgiHead(head: string): { status: number; headers: [string, string][] } {
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
 * Starts a smart-HTTP git server over `projectRoot` (every repository exported, pushes accepted
 * unless `allowPush: false`). The backend runs with no system or global config.
 *
 * @example
 *   const server = await startGitHttpServer({ projectRoot: dir })
 *   execFileSync('git', ['clone', server.repoUrl('remote.git'), work])
 *   await server.stop()
 */
export async function startGitHttpServer(options: GitHttpOptions): Promise<GitHttpServer> {
  const children = new Set<ChildProcess>()
  const requests: GitHttpRequest[] = []
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://git.invalid')
    const record: GitHttpRequest = { method: req.method ?? 'GET', url: req.url ?? '/', status: 0 }
    requests.push(record)
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: options.projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GATEWAY_INTERFACE: 'CGI/1.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REMOTE_USER: 'test',
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(typeof req.headers['git-protocol'] === 'string'
        ? { GIT_PROTOCOL: req.headers['git-protocol'], HTTP_GIT_PROTOCOL: req.headers['git-protocol'] }
        : {}),
      ...(options.allowPush === false
        ? {}
        : { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.receivepack', GIT_CONFIG_VALUE_0: 'true' }),
    }
    const child = spawn('git', ['http-backend'], { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    children.add(child)
    child.on('exit', () => children.delete(child))
    child.on('error', () => {
      children.delete(child)
      if (!res.headersSent) res.writeHead(500).end()
    })
    child.stderr.resume()
    req.pipe(child.stdin)
    child.stdin.on('error', () => undefined)

    // The CGI answer is "headers, blank line, body"; headers are parsed, the body streamed.
    let head = Buffer.alloc(0)
    let headDone = false
    child.stdout.on('data', (chunk: Buffer) => {
      if (headDone) {
        res.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      const text = head.toString('latin1')
      const end = text.search(/\r?\n\r?\n/)
      if (end < 0) return
      const sep = /\r?\n\r?\n/.exec(text.slice(end))?.[0].length ?? 2
      const { status, headers } = parseCgiHead(text.slice(0, end))
      record.status = status
      res.writeHead(status, headers)
      headDone = true
      const rest = head.subarray(end + sep)
      if (rest.length > 0) res.write(rest)
    })
    child.stdout.on('end', () => {
      if (!headDone) {
        record.status = 502
        res.writeHead(502)
      }
      res.end()
    })
  })
  server.listen(0, options.listenHost ?? '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const host = options.listenHost ?? '127.0.0.1'
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    host,
    port,
    requests,
    repoUrl: (name) => `${url}/${name}`,
    async stop() {
      for (const child of children) {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
