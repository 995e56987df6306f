import { startGiteaDouble } from '../../src/gitea/double/index.js'
import { describePortContract } from './port-contract-suite.js'

// The adapter over real HTTP to the double on a free port.
describePortContract('real HTTP', async () => {
  const running = await startGiteaDouble()
  return { double: running.double, baseUrl: running.url, close: running.stop }
})
