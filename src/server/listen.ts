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
        new Error(
          `cannot listen on ${options.host}:${options.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use (set PORT to another one, or stop the process using it)' : err.message}`,
          { cause: err },
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
