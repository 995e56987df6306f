// Load generator, run in a worker thread so it does not share an event loop with the server
// under test. Plain JS so it needs no TypeScript loader inside the worker.
import { Agent, request } from 'node:http'
import { parentPort, workerData } from 'node:worker_threads'

const { url, connections, durationMs, headers, body, idPrefix } = workerData
const target = new URL(url)
const agent = new Agent({ keepAlive: true, maxSockets: connections })
const payload = Buffer.from(body)
const latencies = []
const statuses = {}
let errors = 0
let seq = 0

function once() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint()
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { ...headers, 'content-length': payload.length, 'x-gitea-delivery': `${idPrefix}-${seq++}` },
      },
      (res) => {
        res.resume()
        res.once('end', () => {
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
          resolve()
        })
      },
    )
    req.once('error', () => {
      errors++
      resolve()
    })
    req.end(payload)
  })
}

const started = Date.now()
const stopAt = started + durationMs
async function loop() {
  while (Date.now() < stopAt) await once()
}
await Promise.all(Array.from({ length: connections }, loop))
const elapsedMs = Date.now() - started
agent.destroy()
latencies.sort((a, b) => a - b)
const pct = (p) =>
  latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN
parentPort.postMessage({
  requests: latencies.length,
  errors,
  statuses,
  elapsedMs,
  rps: (latencies.length / elapsedMs) * 1000,
  p50: pct(0.5),
  p99: pct(0.99),
})
