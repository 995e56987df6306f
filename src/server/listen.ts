import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

/** An app served over HTTP. */
export interface Listening {
  /** `http://host:port`, with the real port when 0 was asked. */
  url: string
  port: number
  /** Stops accepting, lets in-flight requests finish, closes idle keep-alive sockets. */
  close(): Promise<void>
}

/**
 * Serves a Hono app with @hono/node-server; resolves once the socket listens.
 *
 * @example
 *   const http = await listen(app, { host: '127.0.0.1', port: 0 })
 *   await fetch(`${http.url}/health`)
 *   await http.close()
 */
export async function listen(app: Hono, options: { host: string; port: number }): Promise<Listening> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port }) as Server
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        listenError(
          'cannot listen',
          options.host,
          options.port,
          err,
          ' (set PORT to another one, or stop the process using it)',
        ),
      ),
    )
    s.once('listening', () => resolve(s))
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeIdleConnections()
      }),
  }
}

/**
 * The one-line error of a server that could not listen: `<what> on host:port: the port is in use`
 * (plus `hint`) for EADDRINUSE, else the system's message.
 *
 * @example
 *   server.once('error', (err) => reject(listenError('cannot listen', '0.0.0.0', 3000, err)))
 */
export function listenError(
  what: string,
  host: string,
  port: number,
  err: NodeJS.ErrnoException,
  hint = '',
): Error {
  const why = err.code === 'EADDRINUSE' ? `the port is in use${hint}` : err.message
  return new Error(`${what} on ${host}:${port}: ${why}`, { cause: err })
}
