import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { newGroup } from '../../src/alerts/alert-group.js'
import { AlertGroupStore, GroupBusyError } from '../../src/alerts/alert-group-store.js'
import { cleanupPrefix, testRedisUrl, uniquePrefix } from '../helpers/redis.js'
import { notification } from './notifications.js'

describe('AlertGroupStore', () => {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 })
  const prefix = uniquePrefix()
  const state = newGroup(notification([{ fp: 'a1', status: 'firing' }]))
  afterEach(() => cleanupPrefix(prefix))
  afterAll(() => redis.disconnect())

  it('holders of one group take turns; the second sees what the first saved', async () => {
    const store = new AlertGroupStore({ redis, prefix, waitMs: 5000 })
    const order: string[] = []
    let release!: () => void
    const first = store.withGroup('g1', async (held) => {
      order.push('first in')
      await new Promise<void>((r) => (release = r))
      await held.save({ ...state, receiver: 'first' })
      order.push('first out')
    })
    await new Promise((r) => setTimeout(r, 50))
    const second = store.withGroup('g1', async (held) => {
      order.push(`second in, saw ${held.state?.receiver}`)
    })
    await new Promise((r) => setTimeout(r, 100))
    release()
    await Promise.all([first, second])
    expect(order).toEqual(['first in', 'first out', 'second in, saw first'])
  })

  it('a delivery that waited past waitMs gives up with GroupBusyError', async () => {
    const store = new AlertGroupStore({ redis, prefix, waitMs: 200 })
    let release!: () => void
    const holding = store.withGroup('g1', () => new Promise<void>((r) => (release = r)))
    await new Promise((r) => setTimeout(r, 50))
    await expect(store.withGroup('g1', async () => 'ran')).rejects.toBeInstanceOf(GroupBusyError)
    release()
    await holding
    expect(await store.withGroup('g1', async () => 'ran')).toBe('ran')
  })

  it('a holder whose lock was lost (expired, taken by another) cannot save', async () => {
    const store = new AlertGroupStore({ redis, prefix })
    await expect(
      store.withGroup('g1', async (held) => {
        await redis.set(`${prefix}:alerts:g1:lock`, 'someone-else')
        await held.save(state)
      }),
    ).rejects.toBeInstanceOf(GroupBusyError)
    expect(await store.read('g1')).toBeUndefined()
    // Its release did not free the other holder's lock.
    expect(await redis.get(`${prefix}:alerts:g1:lock`)).toBe('someone-else')
  })

  it('keeps a held lock alive past its TTL by renewing it', async () => {
    const store = new AlertGroupStore({ redis, prefix, lockTtlMs: 600 })
    await store.withGroup('g1', async (held) => {
      await new Promise((r) => setTimeout(r, 1500))
      await held.save(state)
    })
    expect(await store.read('g1')).toEqual(state)
    expect(await redis.exists(`${prefix}:alerts:g1:lock`)).toBe(0)
  })
})
