// The hermes agent backend (docs/AGENTS.md, "Hermes backend") and its API double.
export { HermesBackend, type HermesBackendOptions } from './hermes-backend.js'
export { idempotencyKeyOf } from './hermes-run.js'
export { HermesEventMapper, toUsage } from './event-mapper.js'
export { sseFrames, type SseFrame } from './sse-frames.js'
export * from './double/index.js'
