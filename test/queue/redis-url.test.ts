import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { parseRedisUrl } from '../../src/queue/redis-url.js'

describe('parseRedisUrl', () => {
  // Sentinel and Cluster URLs list several hosts: WHATWG URL refuses them (`h1:26379,h2:26379` is
  // not a port), which is how both kinds failed before they were ever run against real servers.
  it.each([
    [
      'redis+sentinel://s1:26379,s2:26380/uwmaster',
      {
        kind: 'sentinel',
        hosts: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
        name: 'uwmaster',
      },
    ],
    [
      'redis+sentinel://:p%40ss@127.0.0.1:26379,[::1]:26380/my%20master',
      {
        kind: 'sentinel',
        hosts: [
          { host: '127.0.0.1', port: 26379 },
          { host: '::1', port: 26380 },
        ],
        name: 'my master',
        password: 'p@ss',
      },
    ],
    ['redis+sentinel://s1', { kind: 'sentinel', hosts: [{ host: 's1', port: 26379 }], name: 'mymaster' }],
    [
      'redis+cluster://bot:secret@c1:7000,c2,c3:7002',
      {
        kind: 'cluster',
        hosts: [
          { host: 'c1', port: 7000 },
          { host: 'c2', port: 6379 },
          { host: 'c3', port: 7002 },
        ],
        username: 'bot',
        password: 'secret',
      },
    ],
    ['redis://:pw@127.0.0.1:6379', { kind: 'single', url: 'redis://:pw@127.0.0.1:6379', password: 'pw' }],
    ['rediss://redis.example', { kind: 'single', url: 'rediss://redis.example' }],
  ])('%s', (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected)
  })

  it.each([
    ['redis+sentinel://:pw@/master', /no host/],
    ['redis+cluster://c1:70000', /not host:port/],
    ['redis+cluster://c1:x', /not host:port/],
    ['redis+cluster://c1:1#frag', /malformed/],
    ['http://redis', /unsupported scheme/],
    ['not a url', /not a URL/],
  ])('refuses %s', (url, reason) => {
    expect(() => parseRedisUrl(url)).toThrow(reason)
  })

  it('refuses a bad REDIS_URL at start-up with the reason, never quoting its password', () => {
    let message = ''
    try {
      loadConfig({ WEBHOOK_SECRET: 's', REDIS_URL: 'redis+sentinel://:hunter2-secret@s1:99999/m' })
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/REDIS_URL/)
    expect(message).toMatch(/not host:port/)
    expect(message).not.toContain('hunter2-secret')
    // A good multi-host URL loads.
    expect(
      loadConfig({ WEBHOOK_SECRET: 's', REDIS_URL: 'redis+sentinel://:pw@s1:26379,s2:26379/m' }).env
        .REDIS_URL,
    ).toBeDefined()
  })
})
