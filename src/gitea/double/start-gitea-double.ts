import type { AddressInfo } from 'node:net'
import { serve, type HttpBindings, type ServerType } from '@hono/node-server'
import { NETWORK_FAULT_HEADER } from './double-app.js'
import { GiteaDouble, type GiteaDoubleOptions } from './gitea-double.js'
import { listenError } from '../../server/listen.js'

export interface StartGiteaDoubleOptions extends Omit<GiteaDoubleOptions, 'baseUrl'> {
  /** 0 or undefined picks a free port. */
  port?: number
  hostname?: string
}

export interface RunningGiteaDouble {
  /** e.g. http://127.0.0.1:41234 — pass it as GITEA_URL. */
  url: string
  double: GiteaDouble
  stop(): Promise<void>
}

/**
 * Runs a Gitea double on a real HTTP port (tests over the wire, or a sandbox for `npm start`).
 *
 * @example
 *   const { url, double, stop } = await startGiteaDouble()
 *   const bot = double.createUser({ login: 'gitea-bot' })
 *   const gitea = new GiteaJsAdapter({ baseUrl: url, token: bot.token })
 *   await stop()
 */
export async function startGiteaDouble(options: StartGiteaDoubleOptions = {}): Promise<RunningGiteaDouble> {
  const { port = 0, hostname = '127.0.0.1', ...rest } = options
  const double = new GiteaDouble(rest)
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(
      {
        hostname,
        port,
        fetch: async (request, env) => {
          const response = await double.fetch(request, env)
          // A network fault: drop the TCP connection without an answer.
          if (response.headers.has(NETWORK_FAULT_HEADER)) (env as HttpBindings).incoming.socket.destroy()
          return response
        },
      },
      () => resolve(s),
    )
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(listenError('the Gitea double cannot listen', hostname, port, err)),
    )
  })
  const address = server.address() as AddressInfo
  const url = `http://${hostname}:${address.port}`
  double.setBaseUrl(url)
  return {
    url,
    double,
    // Stops the server, then kills running git backends and removes the git storage it made.
    stop: () =>
      new Promise<void>((resolve, reject) => {
        if ('closeAllConnections' in server) server.closeAllConnections()
        server.close((err) => {
          double.close()
          if (err) reject(err)
          else resolve()
        })
      }),
  }
}
