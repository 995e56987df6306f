import { http, HttpResponse, type HttpHandler } from 'msw'
import { NETWORK_FAULT_HEADER } from './double-app.js'
import type { GiteaDouble } from './gitea-double.js'

/**
 * msw handlers that forward every request under the double's base URL to its Hono app, so
 * the real adapter runs in-process without a port. Not exported from the folder index:
 * msw is a dev dependency.
 *
 * @example
 *   const double = createGiteaDouble({ baseUrl: 'http://gitea.test' })
 *   const server = setupServer(...giteaDoubleHandlers(double))
 *   server.listen({ onUnhandledRequest: 'bypass' })
 */
export function giteaDoubleHandlers(double: GiteaDouble): HttpHandler[] {
  return [
    http.all(`${double.baseUrl}/*`, async ({ request }) => {
      const response = await double.fetch(request)
      if (response.headers.has(NETWORK_FAULT_HEADER)) return HttpResponse.error()
      return response
    }),
  ]
}
