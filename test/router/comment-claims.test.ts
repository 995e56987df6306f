import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  claimKey,
  MemoryCommentClaims,
  RedisCommentClaims,
  type CommentClaims,
} from '../../src/router/comment-claims.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'

const repo = { owner: 'alice', name: 'demo', fullName: 'alice/demo' }

describe('claimKey', () => {
  it.each([
    [{ commentId: 4711, repo, issue: { number: 3 } }, 'comment:4711'],
    [{ commentId: undefined, repo, issue: { number: 3 } }, 'body:alice/demo#3'],
  ])('%o -> %s', (event, key) => {
    expect(claimKey(event)).toBe(key)
  })
})

describe.each([
  ['memory', () => new MemoryCommentClaims()],
  ['redis', () => new RedisCommentClaims(redis, prefix)],
] as const)('%s comment claims', (_name, make) => {
  it('the first delivery owns a comment; its own retries keep it; another delivery id does not', async () => {
    const claims: CommentClaims = make()
    expect(await claims.claim('comment:1', 'd-1')).toBe(true)
    expect(await claims.claim('comment:1', 'd-1')).toBe(true)
    expect(await claims.claim('comment:1', 'd-2')).toBe(false)
    expect(await claims.claim('comment:2', 'd-2')).toBe(true)
  })
})

let redis: Redis
let prefix: string
beforeAll(() => {
  redis = new Redis(testRedisUrl())
  prefix = uniquePrefix()
})
afterAll(async () => {
  redis.disconnect()
  await cleanupPrefix(prefix)
})
