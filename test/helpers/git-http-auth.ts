// Token authentication in front of the test git server (test/helpers/git-http.ts), the way Gitea
// answers: a request without `Authorization: token <t>` for the right token gets 401 with a Basic
// challenge. Every request is recorded with its timing, so tests can count fetches and check that
// no two overlap, and whether the token ever appeared anywhere but in the header.
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startGitHttpServer, type GitHttpOptions, type GitHttpServer } from './git-http.js'

export interface AuthRequest {
  method: string
  url: string
  /** The Authorization header as received (undefined when absent). */
  authorization: string | undefined
  status: number
  start: number
  end: number
}

export interface AuthGitServer extends Omit<GitHttpServer, 'requests'> {
  requests: AuthRequest[]
  /** How many fetches (or clones, ls-remotes) started: GETs of `info/refs?service=git-upload-pack`. */
  fetchCount(): number
  /** The most requests in flight at once (git sends a fetch's requests one after another). */
  maxInFlight(): number
}

export interface AuthGitOptions extends GitHttpOptions {
  /** The token the server accepts; undefined accepts every request. */
  token?: string
  /** Delay before each upload-pack POST is answered (makes overlapping fetches observable). */
  uploadDelayMs?: number
}

/**
 * Starts the git server behind a token check.
 *
 * @example
 *   const server = await startAuthGitServer({ projectRoot: dir, token: 's3cret' })
 *   // git -c http.extraHeader='Authorization: token s3cret' fetch <server.repoUrl('acme/api.git')>
 */
export async function startAuthGitServer(options: AuthGitOptions): Promise<AuthGitServer> {
  const backend = await startGitHttpServer(options)
  const requests: AuthRequest[] = []
  let inFlight = 0
  let maxInFlight = 0
  const server = http.createServer((req, res) => {
    const record: AuthRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      authorization: req.headers.authorization,
      status: 0,
      start: performance.now(),
      end: 0,
    }
    requests.push(record)
    maxInFlight = Math.max(maxInFlight, ++inFlight)
    res.on('close', () => inFlight--)
    res.on('finish', () => {
      record.status = res.statusCode
      record.end = performance.now()
    })
    if (options.token !== undefined && req.headers.authorization !== `token ${options.token}`) {
      req.resume()
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Gitea"', 'Content-Length': '0' }).end()
      return
    }
    const forward = (): void => {
      const up = http.request(
        { host: backend.host, port: backend.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers)
          upRes.pipe(res)
        },
      )
      up.on('error', () => res.writeHead(502).end())
      req.pipe(up)
    }
    const delay =
      req.method === 'POST' && req.url?.includes('git-upload-pack') ? (options.uploadDelayMs ?? 0) : 0
    if (delay > 0) setTimeout(forward, delay)
    else forward()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  return {
    url,
    host: '127.0.0.1',
    port,
    requests,
    repoUrl: (name) => `${url}/${name}`,
    fetchCount: () =>
      requests.filter((r) => r.method === 'GET' && r.url.includes('info/refs?service=git-upload-pack'))
        .length,
    maxInFlight: () => maxInFlight,
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await backend.stop()
    },
  }
}
