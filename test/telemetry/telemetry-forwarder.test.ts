import { afterEach, describe, expect, it } from 'vitest'
import { sinkBacklog, telemetrySinkKeys, telemetryStreamKey } from '../../src/telemetry/index.js'
import { dedupeById } from '../../src/telemetry/double/sink-double.js'
import { ForwarderRig, queued, SINK_TOKEN, until } from './forwarder-rig.js'

// Issue 14 §1: forwarding to the sovereign's sink, in order, at least once, from the last ack.
describe('TelemetryForwarder (real Redis, sink double over HTTP)', () => {
  let rig: ForwarderRig
  afterEach(async () => rig.close())

  const streamIds = async () =>
    (await rig.redis.xrange(telemetryStreamKey(rig.prefix), '-', '+')).map(([id]) => id)
  const holdsAll = async (sink: { batches: Parameters<typeof dedupeById>[0] }) => {
    const ids = await streamIds()
    const got = dedupeById(sink.batches).events.map((e) => e.id)
    return got.length === ids.length ? got : undefined
  }

  it('sends every event in stream order, in batches of at most batchSize, each with its id and number; the ack is stored', async () => {
    rig = new ForwarderRig()
    const telemetry = rig.telemetry()
    for (let i = 0; i < 25; i++) await telemetry.emit(queued(`j${i}`))
    const sink = await rig.sink()
    rig.forwarder(sink.url, { batchSize: 10 })
    for (let i = 25; i < 40; i++) await telemetry.emit(queued(`j${i}`))
    const got = await until('all 40', () => holdsAll(sink))
    expect(got).toEqual(await streamIds())
    expect(dedupeById(sink.batches).duplicates).toBe(0)
    expect(Math.max(...sink.batches.map((b) => b.events.length))).toBeLessThanOrEqual(10)
    const events = sink.batches.flatMap((b) => b.events)
    expect(events.map((e) => e.n)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(events[0]).toMatchObject({
      type: 'job.queued',
      jobId: 'j0',
      house: 'ezra',
      at: expect.any(String),
    })
    const ack = await until('ack of the last', async () => {
      const a = await rig.redis.hgetall(telemetrySinkKeys(rig.prefix).ack)
      return a.id === got.at(-1) ? a : undefined
    })
    expect(ack).toMatchObject({ n: '40', forwarded: '40' })
    expect(rig.forwardedCount).toBe(40)
    const backlog = await sinkBacklog(rig.redis, rig.prefix)
    expect(backlog).toMatchObject({ depth: 0, lagSeconds: 0, oldestUnacked: null, forwarded: 40, gaps: 0 })
    expect(backlog.lease).toMatchObject({ owner: 'test:1', fence: 1 })
  })

  it('keeps events while the sink is refused, failing (503) or too slow, and sends them in order once it is back', async () => {
    rig = new ForwarderRig()
    const telemetry = rig.telemetry()
    const sink = await rig.sink()
    rig.forwarder(sink.url, { batchSize: 5, timeoutMs: 200 })
    await telemetry.emit(queued('before'))
    await until('first', () => holdsAll(sink))
    const outages: [string, () => Promise<void> | void][] = [
      ['refused', () => sink.down()],
      ['503', () => sink.fault({ kind: 'status', status: 503 })],
      ['429', () => sink.fault({ kind: 'status', status: 429, retryAfterSeconds: 0 })],
      ['slow', () => sink.fault({ kind: 'slow', ms: 400 })],
    ]
    for (const [name, breakIt] of outages) {
      await breakIt()
      for (let i = 0; i < 12; i++) await telemetry.emit(queued(`${name}-${i}`))
      const before = rig.errors.length
      await until(`errors while ${name}`, () => (rig.errors.length >= before + 2 ? true : undefined))
      const backlog = await sinkBacklog(rig.redis, rig.prefix)
      expect(backlog.depth).toBe(12)
      expect(backlog.lagSeconds).toBeGreaterThan(0)
      await sink.up()
      sink.fault({ kind: 'none' })
      await until(`all after ${name}`, () => holdsAll(sink))
    }
    const { events } = dedupeById(sink.batches)
    expect(events.map((e) => e.id)).toEqual(await streamIds())
    expect(new Set(rig.errors)).toEqual(new Set(['network', 'server', 'timeout']))
    expect((await sinkBacklog(rig.redis, rig.prefix)).depth).toBe(0)
  })

  it('a refusal such as 401 is logged with its reason (never the token) and retried slowly until fixed; nothing is dropped', async () => {
    rig = new ForwarderRig()
    const telemetry = rig.telemetry()
    const sink = await rig.sink()
    const wrong = 'wrong-token-0123456789abcdef'
    const { forwarder } = rig.forwarder(sink.url, { token: wrong, rejectedRetryMs: 1000 })
    await telemetry.emit(queued('a'))
    await until('two refusals', () =>
      sink.requests.filter((r) => r.status === 401).length >= 2 ? true : undefined,
    )
    // The slow retry: not the 10-100 ms backoff of a failing sink.
    expect(sink.requests.filter((r) => r.status === 401).length).toBeLessThanOrEqual(3)
    expect(rig.errors.every((k) => k === 'rejected')).toBe(true)
    const line = rig.logs.find((l) => l.includes('the sink refused the batch'))
    expect(line).toContain('HTTP 401')
    expect(rig.logs.join('\n')).not.toContain(wrong)
    expect(rig.logs.join('\n')).not.toContain(SINK_TOKEN)
    expect((await sinkBacklog(rig.redis, rig.prefix)).depth).toBe(1)
    // The operator fixes the token (a restart): the new forwarder sends what waited.
    await forwarder.stop()
    const fixed = rig.forwarder(sink.url)
    await until('sent after the fix', () => holdsAll(sink))
    expect(fixed.forwarder.leading).toBe(true)
  })

  it('a sink or proxy that echoes the request headers in its error answer never gets the token into the logs', async () => {
    rig = new ForwarderRig()
    const telemetry = rig.telemetry()
    const sink = await rig.sink()
    sink.fault({ kind: 'status', status: 502, echoHeaders: true })
    rig.forwarder(sink.url)
    await telemetry.emit(queued('a'))
    await until('a logged failure', () => rig.logs.find((l) => l.includes('the sink is unavailable')))
    const line = rig.logs.find((l) => l.includes('the sink is unavailable'))!
    // The echo is there (the reason still says what the sink answered), with the token hidden.
    expect(line).toContain('HTTP 502')
    expect(line).toMatch(/authorization.{0,8}Bearer \[redacted\]/)
    expect(rig.logs.join('\n')).not.toContain(SINK_TOKEN)
    expect(rig.logs.join('\n')).not.toContain(SINK_TOKEN.slice(0, 12))
    sink.fault({ kind: 'none' })
    await until('sent once the sink is back', () => holdsAll(sink))
  })

  it('exactly one forwarder sends; when its holder dies, another takes the lease after it expires and continues from the ack', async () => {
    rig = new ForwarderRig()
    const telemetry = rig.telemetry()
    const sink = await rig.sink()
    const a = rig.forwarder(sink.url, { owner: 'a:1', leaseMs: 1000 })
    await until('a leads', () => (a.forwarder.leading ? true : undefined))
    const b = rig.forwarder(sink.url, { owner: 'b:2', leaseMs: 1000 })
    for (let i = 0; i < 30; i++) await telemetry.emit(queued(`x${i}`))
    await until('first 30', () => holdsAll(sink))
    expect(b.forwarder.leading).toBe(false)
    expect(new Set(sink.batches.map((x) => x.fence))).toEqual(new Set([1]))
    // a dies without releasing (its connections cut): its lease runs out, b takes over.
    a.redis.disconnect()
    for (let i = 30; i < 60; i++) await telemetry.emit(queued(`x${i}`))
    await until('b leads', () => (b.forwarder.leading ? true : undefined), 10_000)
    await until('all 60', () => holdsAll(sink))
    const { events, duplicates } = dedupeById(sink.batches)
    expect(events.map((e) => e.id)).toEqual(await streamIds())
    // At most the batch a sent but could not acknowledge is sent again by b.
    expect(duplicates).toBeLessThanOrEqual(200)
    expect(sink.batches.at(-1)!.fence).toBe(2)
    expect((await sinkBacklog(rig.redis, rig.prefix)).lease).toMatchObject({ owner: 'b:2', fence: 2 })
  })

  it('a former holder whose lease was taken cannot move the ack (fenced), and the sink refuses its older fence (409)', async () => {
    rig = new ForwarderRig()
    const telemetry = rig.telemetry()
    const sink = await rig.sink()
    const keys = telemetrySinkKeys(rig.prefix)
    const a = rig.forwarder(sink.url, { owner: 'a:1', leaseMs: 60_000 })
    await until('a leads', () => (a.forwarder.leading ? true : undefined))
    await telemetry.emit(queued('one'))
    await until('one', () => holdsAll(sink))
    const [one] = await streamIds()
    await until('one acknowledged', async () =>
      (await rig.redis.hget(keys.ack, 'id')) === one ? true : undefined,
    )
    // a pauses (its lease is gone behind its back) and b takes over with fence 2.
    await rig.redis.del(keys.lease)
    const b = rig.forwarder(sink.url, { owner: 'b:2', leaseMs: 60_000 })
    await until('b leads', () => (b.forwarder.leading ? true : undefined))
    await telemetry.emit(queued('two'))
    await until('two', () => holdsAll(sink))
    // a never wrote an ack past its lease: the ack is b's, and a stopped leading.
    await until('a lost the lease', () => (a.forwarder.leading ? undefined : true))
    expect(await rig.redis.get(keys.lease)).toBe('2:b:2')
    // a read "two" too: either its acknowledgement was fenced off, or the sink answered 409.
    const lost = rig.logs.filter((l) => l.includes('lost the lease')).join('\n')
    expect(lost).toMatch(/fenced off|409/)
    expect(await rig.redis.hget(keys.ack, 'id')).toBe((await streamIds()).at(-1))
    // Once the sink saw fence 2, no batch of fence 1 was accepted.
    const fences = sink.batches.map((x) => x.fence)
    expect(fences.slice(fences.indexOf(2))).not.toContain(1)
  })

  it('events trimmed by retention before the sink acknowledged them are reported as a gap, never silently', async () => {
    rig = new ForwarderRig()
    const telemetry = rig.telemetry(100)
    const sink = await rig.sink()
    rig.forwarder(sink.url, { batchSize: 50 })
    await telemetry.emit(queued('first'))
    await until('first', () => holdsAll(sink))
    await sink.down()
    // Far more than the stream keeps (about 100; trimming drops whole nodes of 100).
    for (let i = 0; i < 700; i++) await telemetry.emit(queued(`g${i}`))
    const retained = await streamIds()
    expect(retained.length).toBeLessThan(700)
    await sink.up()
    await until('all retained', async () => {
      const got = dedupeById(sink.batches).events.map((e) => e.id)
      return got.at(-1) === retained.at(-1) ? true : undefined
    })
    // The sink got the events read before they were trimmed (a batch the forwarder held while the
    // sink was away), then every retained one; the gap counts exactly the others.
    const gaps = sink.batches.flatMap((b) => b.gaps)
    const got = dedupeById(sink.batches).events
    const lost = 701 - got.length
    expect(lost).toBeGreaterThan(0)
    expect(gaps).toEqual([
      { type: 'telemetry.gap', after: expect.any(String), before: retained[0], events: lost },
    ])
    expect(got.map((e) => e.id).slice(-retained.length)).toEqual(retained)
    const numbers = new Set(got.map((e) => e.n))
    const before = got.find((e) => e.id === gaps[0]!.after)!.n!
    for (let n = 1; n <= 701; n++) expect(numbers.has(n)).toBe(n <= before || n > before + lost)
    const backlog = await sinkBacklog(rig.redis, rig.prefix)
    expect(backlog).toMatchObject({ gaps: 1, gapEvents: lost, depth: 0 })
    expect(backlog.lastGap).toMatchObject({ before: retained[0], events: lost })
    expect(rig.logs.some((l) => l.includes('trimmed by retention') && l.includes('"level":50'))).toBe(true)
  })
})
