import type { ResolvedAgent } from '../houses/agent-config.js'
import type { AgentBackend, AgentLimits } from './agent-port.js'
import { HermesBackend } from './hermes/index.js'
import { OpenAIBackend } from './openai/index.js'

/**
 * The backend a house's `agent:` names, talking to its endpoint with its key (read from the
 * environment at start-up; never logged).
 *
 * @example
 *   const backend = backendFor(policies.ezra.agent!) // OpenAIBackend or HermesBackend
 */
export function backendFor(agent: ResolvedAgent): AgentBackend {
  const apiKey = agent.key?.reveal()
  if (agent.backend === 'openai')
    return new OpenAIBackend({
      baseUrl: agent.endpoint,
      ...(apiKey !== undefined ? { apiKey } : {}),
      model: agent.model ?? 'default',
    })
  if (apiKey === undefined)
    throw new Error(
      `the hermes agent at ${agent.endpoint} needs a key (API_SERVER_KEY on its side): set agent.keyEnv or auth_token`,
    )
  return new HermesBackend({
    endpoint: agent.endpoint,
    apiKey,
    ...(agent.keyEnv !== undefined ? { apiKeyEnv: agent.keyEnv } : {}),
  })
}

/** A house's limits in the port's units. */
export function agentLimits(agent: ResolvedAgent): AgentLimits {
  return {
    maxTurns: agent.limits.maxTurns,
    wallMs: agent.limits.wallTimeSeconds * 1000,
    maxTokens: agent.limits.maxTokensPerJob,
  }
}
