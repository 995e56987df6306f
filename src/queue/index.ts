export { createRedis, DEFAULT_PREFIX, type ConnectionRole } from './connection.js'
export { startRedisServer, freePort, type RedisServerHandle, type StartRedisOptions } from './redis-server.js'
