// The OpenAI-compatible agent backend (docs/AGENTS.md, "OpenAI-compatible backend"). Its scripted
// model double is in ./double/index.ts.
export { OpenAIBackend, type OpenAIBackendOptions } from './openai-backend.js'
export type { RetryOptions } from './chat-client.js'
export { argsJsonSchema, toolOffers } from './tool-offers.js'
