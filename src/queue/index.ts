export { createRedis, DEFAULT_PREFIX, type ConnectionRole } from './connection.js'
export { startRedisServer, freePort, type RedisServerHandle, type StartRedisOptions } from './redis-server.js'
export {
  createEventsProducer,
  EVENTS_QUEUE,
  QueueUnavailableError,
  type EventsProducer,
  type EventsProducerOptions,
} from './events-producer.js'
export { LuaScript } from './lua-script.js'
export { houseQueueName, REPORTS_QUEUE } from './queue-names.js'
export { QueueWorker, UnrecoverableError, type QueueJob } from './queue-worker.js'
export { cappedBackoff } from './backoff.js'
export { parseRedisUrl, type RedisTarget, type HostPort } from './redis-url.js'
export { RedisConfig } from './redis-config.js'
export { ReplicaWait } from './replica-wait.js'
export { KEYED_WORK_MAX_STALLED, lockOptions, type ConsumerLocks } from './consumer-locks.js'
