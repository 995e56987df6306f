import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { createHermesDoubleApp } from './double-app.js'
import { HermesDouble, type HermesDoubleOptions } from './hermes-double.js'

export interface StartHermesDoubleOptions extends HermesDoubleOptions {
  /** 0 or undefined picks a free port. */
  port?: number
  hostname?: string
}

export interface RunningHermesDouble {
  /** e.g. http://127.0.0.1:41234 — a house's agent `endpoint`. */
  url: string
  double: HermesDouble
  close(): Promise<void>
}

/**
 * Runs a Hermes API double on a real HTTP port (tests over the wire, the sandbox).
 *
 * @example
 *   const { url, double, close } = await startHermesDouble({ framing: 'replay' })
 *   const backend = new HermesBackend({ endpoint: url, apiKey: double.apiKey ?? '' })
 *   await close()
 */
export async function startHermesDouble(
  options: StartHermesDoubleOptions = {},
): Promise<RunningHermesDouble> {
  const { port = 0, hostname = '127.0.0.1', ...rest } = options
  const double = new HermesDouble(rest)
  const app = createHermesDoubleApp(double)
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ hostname, port, fetch: app.fetch }, () => resolve(s))
    // src/agents never imports src/server, so the listen error is worded here.
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`the Hermes double cannot listen on ${hostname}:${port}: ${err.code ?? err.message}`)),
    )
  })
  const address = server.address() as AddressInfo
  return {
    url: `http://${hostname}:${address.port}`,
    double,
    close: () =>
      new Promise<void>((resolve, reject) => {
        double.close()
        if ('closeAllConnections' in server) server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}
