import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const WAIT_READY = resolve(import.meta.dirname, '../../deploy/systemd/wait-ready.mjs')

/** A stand-in for uni-wizard's HTTP server: each path answers what its function says. */
async function serve(answers: Record<string, () => number>): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const status = answers[req.url ?? '']?.() ?? 404
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ status: status === 200 ? 'ok' : 'redis: connect ECONNREFUSED' }))
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { server, port: (server.address() as AddressInfo).port }
}

/** Runs wait-ready as systemd would (the unit's HOST and PORT in its environment). */
function waitReady(port: number, args: string[]): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now()
  return new Promise((done) => {
    execFile(
      process.execPath,
      [WAIT_READY, ...args],
      { env: { PATH: process.env.PATH, HOST: '0.0.0.0', PORT: String(port) }, timeout: 20_000 },
      (err, stdout, stderr) =>
        done({
          code: err ? (typeof err.code === 'number' ? err.code : -1) : 0,
          out: `${stdout}${stderr}`,
          ms: Date.now() - started,
        }),
    )
  })
}

describe('deploy/systemd/wait-ready.mjs (the units ExecStartPost readiness)', () => {
  let server: Server | undefined
  afterEach(async () => {
    await new Promise((done) => (server ? server.close(done) : done(undefined)))
    server = undefined
  })

  it('returns 0 as soon as /ready answers 200, after polling through 503s', async () => {
    let calls = 0
    const s = await serve({ '/ready': () => (++calls < 3 ? 503 : 200), '/health': () => 200 })
    server = s.server
    const r = await waitReady(s.port, ['--timeout=10', '--interval=0.1'])
    expect(r.code).toBe(0)
    expect(calls).toBe(3)
    expect(r.out).toContain('/ready answered 200')
    expect(r.ms).toBeLessThan(5_000)
  })

  it('fails (the start failed: Restart=on-failure) when nothing answers at all', async () => {
    const s = await serve({})
    const port = s.port
    await new Promise((done) => s.server.close(done))
    const r = await waitReady(port, ['--timeout=1', '--interval=0.1'])
    expect(r.code).toBe(1)
    expect(r.out).toMatch(/did not come up within 1 s: \/ready ECONNREFUSED/)
  })

  it('lets a started process through when only a dependency is missing, saying which', async () => {
    const s = await serve({ '/ready': () => 503, '/health': () => 200 })
    server = s.server
    const r = await waitReady(s.port, ['--timeout=1', '--interval=0.1'])
    expect(r.code).toBe(0)
    expect(r.out).toContain('started, but')
    expect(r.out).toContain('503')
    expect(r.out).toContain('ECONNREFUSED')
  })

  it('refuses a bad --timeout with the reason', async () => {
    const r = await waitReady(1, ['--timeout=soon'])
    expect(r.code).toBe(2)
    expect(r.out).toContain('--timeout and --interval take seconds > 0')
  })
})
