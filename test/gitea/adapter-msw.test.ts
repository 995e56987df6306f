import { setupServer } from 'msw/node'
import { afterAll, beforeAll } from 'vitest'
import { createGiteaDouble, type GiteaDouble } from '../../src/gitea/double/index.js'
import { giteaDoubleHandlers } from '../../src/gitea/double/msw-handlers.js'
import { describePortContract } from './port-contract-suite.js'

// The adapter in-process: msw intercepts fetch and hands requests to the double's Hono app.
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }))
afterAll(() => server.close())

describePortContract('in-process via msw', async () => {
  const double: GiteaDouble = createGiteaDouble({ baseUrl: 'http://gitea.test' })
  server.resetHandlers(...giteaDoubleHandlers(double))
  return {
    double,
    baseUrl: double.baseUrl,
    close: async () => {
      double.close()
      server.resetHandlers()
    },
  }
})
