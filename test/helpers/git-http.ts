// A real git server over real HTTP for tests: a small node HTTP server that runs `git http-backend`
// (git's own smart-HTTP CGI, through the Gitea double's runGitHttpBackend) once per request. Fetch, clone, ls-remote and push all work against it,
// so git tools can be tested with http(s) remotes, the only kind they accept.
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { killGitBackends, runGitHttpBackend } from '../../src/gitea/double/git/git-http-backend.js'

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
    const backend = runGitHttpBackend(
      {
        method: req.method ?? 'GET',
        pathInfo: decodeURIComponent(url.pathname),
        query: url.search.replace(/^\?/, ''),
        contentType: req.headers['content-type'],
        contentLength: req.headers['content-length'],
        contentEncoding: req.headers['content-encoding'],
        gitProtocol:
          typeof req.headers['git-protocol'] === 'string' ? req.headers['git-protocol'] : undefined,
        remoteAddr: req.socket.remoteAddress,
        remoteUser: 'test',
        body: req,
      },
      { projectRoot: options.projectRoot, allowPush: options.allowPush !== false, children },
    )
    void backend.then(({ status, headers, body }) => {
      record.status = status
      res.writeHead(status, headers)
      body.pipe(res)
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
      killGitBackends(children)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
