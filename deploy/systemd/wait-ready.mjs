#!/usr/bin/env node
// ExecStartPost= of the uni-wizard units: systemd's readiness without sd_notify(3), which Node
// cannot send (no AF_UNIX datagram sockets), polled over HTTP instead.
//
// Waits until GET /ready answers 200 on HOST:PORT (the unit's own environment, defaults as in
// uni-wizard: 0.0.0.0 and 3000), then exits 0 and systemd marks the unit active.
// If /ready still fails at --timeout seconds but /health answers, the process did start and only
// a dependency (Redis, Gitea) is missing: that is logged and the unit is still marked active, so
// a Gitea outage at boot does not turn into a restart loop. If not even /health answers, it
// exits 1: the start failed and Restart=on-failure applies.
//
//   wait-ready.mjs [--timeout=60] [--interval=0.25]
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: { timeout: { type: 'string', default: '60' }, interval: { type: 'string', default: '0.25' } },
})
const timeoutMs = Number(values.timeout) * 1000
const intervalMs = Number(values.interval) * 1000
if (!(timeoutMs > 0) || !(intervalMs > 0)) {
  console.error(
    `wait-ready: --timeout and --interval take seconds > 0; got ${values.timeout}, ${values.interval}`,
  )
  process.exit(2)
}

// A server listening on every address is reached on loopback.
const wildcard = { '0.0.0.0': '127.0.0.1', '::': '[::1]' }
const host = process.env.HOST?.trim() || '0.0.0.0'
const hostPart = wildcard[host] ?? (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host)
const base = `http://${hostPart}:${process.env.PORT?.trim() || '3000'}`

/** One GET: the status and the start of the body, or the error that stopped it. */
async function probe(path) {
  try {
    const res = await fetch(base + path, { signal: AbortSignal.timeout(3000) })
    const body = (await res.text()).slice(0, 300)
    return { ok: res.status === 200, why: `${res.status} ${body}`.trim() }
  } catch (err) {
    return { ok: false, why: String(err?.cause?.code ?? err?.cause ?? err) }
  }
}

const deadline = Date.now() + timeoutMs
let last = 'not probed'
for (;;) {
  const ready = await probe('/ready')
  if (ready.ok) {
    console.log(`wait-ready: ${base}/ready answered 200`)
    process.exit(0)
  }
  last = ready.why
  if (Date.now() + intervalMs > deadline) break
  await new Promise((resolve) => setTimeout(resolve, intervalMs))
}
const health = await probe('/health')
if (health.ok) {
  console.log(`wait-ready: started, but ${base}/ready still fails after ${values.timeout} s: ${last}`)
  process.exit(0)
}
console.error(
  `wait-ready: ${base} did not come up within ${values.timeout} s: /ready ${last}; /health ${health.why}`,
)
process.exit(1)
