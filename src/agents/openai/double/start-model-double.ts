import type { AddressInfo } from 'node:net'
import { serve, type HttpBindings, type ServerType } from '@hono/node-server'
import { MODEL_NETWORK_FAULT_HEADER, ModelDouble, type ModelDoubleOptions } from './model-double.js'

export interface StartModelDoubleOptions extends ModelDoubleOptions {
  /** 0 or undefined picks a free port. */
  port?: number
  hostname?: string
}

export interface RunningModelDouble {
  /** e.g. http://127.0.0.1:41234 — the backend's `baseUrl` is `${url}/v1`. */
  url: string
  double: ModelDouble
  close(): Promise<void>
}

/**
 * Runs the scripted model double on a real HTTP port (tests over the wire, the sandbox's houses).
 *
 * @example
 *   const { url, double, close } = await startModelDouble({ script: [{ content: 'Hello.' }] })
 *   const backend = new OpenAIBackend({ baseUrl: `${url}/v1`, model: 'double-model' })
 *   await close()
 */
export async function startModelDouble(options: StartModelDoubleOptions = {}): Promise<RunningModelDouble> {
  const { port = 0, hostname = '127.0.0.1', ...rest } = options
  const double = new ModelDouble(rest)
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(
      {
        hostname,
        port,
        fetch: async (request, env) => {
          const response = await double.fetch(request)
          if (response.headers.has(MODEL_NETWORK_FAULT_HEADER))
            (env as HttpBindings).incoming.socket.destroy()
          return response
        },
      },
      () => resolve(s),
    )
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`the model double cannot listen on ${hostname}:${port}: ${err.code ?? err.message}`)),
    )
  })
  const url = `http://${hostname}:${(server.address() as AddressInfo).port}`
  return {
    url,
    double,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if ('closeAllConnections' in server) server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}
