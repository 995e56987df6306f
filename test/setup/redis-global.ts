import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { startRedisServer } from '../../src/queue/redis-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

/** One real redis-server for the whole run, on a free port in a temp dir; each test uses its own prefix. */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'uw-test-redis-'))
  const redis = await startRedisServer({ dir, appendOnly: false })
  project.provide('redisUrl', redis.url)
  return async () => {
    await redis.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
