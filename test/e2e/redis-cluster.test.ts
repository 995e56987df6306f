// The loop on a real Redis Cluster of three primaries (redis-cli --cluster create): a command goes
// from a signed webhook through the ingress, router, a house worker and the reporter to its result
// comment, every key it wrote hashes to the prefix's one slot, and the same scripts without a hash
// tag in the prefix fail with CROSSSLOT, which is what the tag prevents.
import { Queue } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedis, type RedisClient } from '../../src/queue/connection.js'
import { keysUnder } from '../helpers/redis.js'
import { startClusterTopology, type ClusterTopology } from '../helpers/redis-topology.js'
import { ackState, LoopWorld, until } from './loop-world.js'

let cluster: ClusterTopology
let world: LoopWorld

beforeAll(async () => {
  cluster = await startClusterTopology()
  world = new LoopWorld({ redisUrl: cluster.url })
  await world.start({ ingress: true, router: true, reporter: true, workers: ['ezra'] })
}, 60_000)

afterAll(async () => {
  await world?.stop()
  await cluster?.stop()
})

describe('the loop on a three-primary Redis Cluster', () => {
  it('runs a command end to end, with every key the loop wrote in the prefix hash tag’s one slot', async () => {
    const issue = await world.openIssue('Cluster check')
    const command = await world.comment('writer', issue, '/run git_status @ezra')
    const ack = await (async () => {
      await world.settle()
      const first = world.botComments(issue).find((c) => ackState(c.body))
      if (!first) throw new Error(`no ack comment: ${JSON.stringify(world.botComments(issue))}`)
      return world.finalAck(issue, ackState(first.body)!.jobId)
    })()
    expect(ackState(ack.body)?.state).toBe('success')
    // The result is the worker's signed one, and the command got exactly one final reaction.
    expect(world.signedPredicate(ack.body)).toBeTruthy()
    const final = () => world.reactions(command.id).filter((r) => r === 'rocket' || r === 'confused')
    await until('the final reaction', () => (final().length > 0 ? true : undefined))
    expect(final()).toEqual(['rocket'])

    // Jobs, records, runs, ledger, claims, limits, telemetry, audit...: all in one slot, so every
    // Lua script and MULTI over them ran on one node (a cross-slot one fails: see below).
    const keys = await keysUnder(world.redis, world.prefix)
    expect(keys.length).toBeGreaterThan(10)
    const slot = await cluster.call(['CLUSTER', 'KEYSLOT', world.prefix])
    const slots = new Set<unknown>()
    for (const key of keys) slots.add(await cluster.call(['CLUSTER', 'KEYSLOT', key]))
    expect([...slots]).toEqual([slot])
    // And the keys span the loop's rooms, not only the events queue.
    const rooms = new Set(keys.map((k) => k.slice(world.prefix.length + 1).split(':')[0]))
    for (const room of [
      'events',
      'house-ezra',
      'reports',
      'job',
      'run',
      'claim',
      'ledger',
      'rl',
      'hb',
      'audit',
      'telemetry',
    ])
      expect([...rooms], `keys of ${room}`).toContain(room)
  })

  it('fails with CROSSSLOT when the prefix has no hash tag: the tag is what keeps a script on one slot', async () => {
    const redis: RedisClient = createRedis(cluster.url, 'worker', { maxRetriesPerRequest: 1 })
    const queue = new Queue('events', { connection: redis, prefix: 'uw-no-tag' })
    try {
      await expect(queue.add('x', {})).rejects.toThrow(/CROSSSLOT/)
    } finally {
      await queue.close()
      redis.disconnect()
    }
  })
})
