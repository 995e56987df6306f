import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SinkBatch, type SinkEvent, type SinkGap } from '../sink-batch.js'

/** What the double does with the next request. */
export type SinkFault =
  /** Answers normally. */
  | { kind: 'none' }
  /**
   * Answers this status (5xx, 429, a 4xx...) with a short reason, and keeps nothing. With
   * `echoHeaders` the answer also repeats the request's headers, as some proxies' error pages do.
   */
  | { kind: 'status'; status: number; retryAfterSeconds?: number; echoHeaders?: boolean }
  /** Waits this long before answering normally (a timeout on the forwarder's side, when longer). */
  | { kind: 'slow'; ms: number }

/** One batch the double accepted. */
export interface ReceivedBatch {
  fence: number
  events: SinkEvent[]
  gaps: SinkGap[]
  /** `performance.now()` when the batch's body had arrived (before the double checked it). */
  at: number
}

export interface RunningSinkDouble {
  /** `http://127.0.0.1:<port>/telemetry`, the same across down() and up(). */
  url: string
  /** Every batch accepted, in arrival order. */
  batches: ReceivedBatch[]
  /** Every request seen (also the refused ones), with the answer's status. */
  requests: { status: number; fence?: number; events: number }[]
  /** Stops listening and drops open connections: the forwarder sees connection refused. */
  down(): Promise<void>
  /** Listens again on the same port. */
  up(): Promise<void>
  /** Sets the fault of the following requests. */
  fault(f: SinkFault): void
  /** Called with each accepted batch (the bench notes arrival times). */
  onBatch?: (b: ReceivedBatch) => void
  stop(): Promise<void>
}

const MAX_BODY = 16 * 1024 * 1024

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length
    if (size > MAX_BODY) return undefined
    chunks.push(c)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * A telemetry sink over real HTTP for tests and benches, checking the contract a sovereign's
 * endpoint implements (docs/TELEMETRY.md, "The sink's contract"): `POST /telemetry` only (404,
 * 405), `Authorization: Bearer <token>` (401), a JSON `SinkBatch` (400 with the reason, 413 over
 * 16 MB), a fence lower than one already seen (409). It answers 200 `{ "accepted": n }`.
 * Fault switches: `down()`/`up()` (connection refused), `fault({ kind: 'status', status: 503 })`,
 * `fault({ kind: 'slow', ms })`.
 *
 * @example
 *   const sink = await startSinkDouble({ token: 'sink-token-0123456789' })
 *   await sink.down(); ...; await sink.up()
 *   await sink.stop()
 */
export async function startSinkDouble(opts: { token: string }): Promise<RunningSinkDouble> {
  let fault: SinkFault = { kind: 'none' }
  let highestFence = 0
  const sockets = new Set<import('node:net').Socket>()
  const double: RunningSinkDouble = {
    url: '',
    batches: [],
    requests: [],
    down: async () => {
      if (!server.listening) return
      const closed = new Promise<void>((r) => server.close(() => r()))
      for (const s of sockets) s.destroy()
      await closed
    },
    up: async () => {
      if (!server.listening) await listenOn(port)
    },
    fault: (f) => void (fault = f),
    stop: () => double.down(),
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const note = (status: number, fence?: number, events = 0) =>
      double.requests.push({ status, ...(fence !== undefined ? { fence } : {}), events })
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/telemetry') {
      note(404)
      return answer(res, 404, { error: 'not found' })
    }
    if (req.method !== 'POST') {
      note(405)
      return answer(res, 405, { error: 'POST only' }, { allow: 'POST' })
    }
    if (req.headers.authorization !== `Bearer ${opts.token}`) {
      note(401)
      return answer(res, 401, { error: 'bad or missing bearer token' })
    }
    const raw = await readBody(req)
    const arrived = performance.now()
    if (raw === undefined) {
      note(413)
      return answer(res, 413, { error: 'batch too large' })
    }
    const current = fault
    if (current.kind === 'status') {
      note(current.status)
      const headers: Record<string, string> =
        current.retryAfterSeconds !== undefined ? { 'retry-after': String(current.retryAfterSeconds) } : {}
      const echo = current.echoHeaders ? { headers: req.headers } : {}
      return answer(res, current.status, { error: `fault: ${current.status}`, ...echo }, headers)
    }
    if (current.kind === 'slow') await new Promise((r) => setTimeout(r, current.ms))
    let parsed: ReturnType<typeof SinkBatch.safeParse>
    try {
      parsed = SinkBatch.safeParse(JSON.parse(raw))
    } catch {
      note(400)
      return answer(res, 400, { error: 'body is not JSON' })
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      note(400)
      return answer(res, 400, { error: `bad batch at ${issue?.path.join('.')}: ${issue?.message}` })
    }
    const batch = parsed.data
    if (batch.fence < highestFence) {
      note(409, batch.fence, batch.events.length)
      return answer(res, 409, { error: `fence ${batch.fence} is older than ${highestFence}` })
    }
    highestFence = batch.fence
    const received: ReceivedBatch = {
      fence: batch.fence,
      events: batch.events,
      gaps: batch.gaps ?? [],
      at: arrived,
    }
    double.batches.push(received)
    note(200, batch.fence, batch.events.length)
    double.onBatch?.(received)
    answer(res, 200, { accepted: batch.events.length })
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) answer(res, 500, { error: 'double failed' })
      else res.destroy()
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const listenOn = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  await listenOn(0)
  const port = (server.address() as AddressInfo).port
  double.url = `http://127.0.0.1:${port}/telemetry`
  return double
}

/**
 * The events a sink holds once duplicates are dropped (first arrival of each id kept), and how
 * many arrivals were duplicates.
 *
 * @example
 *   const { events, duplicates } = dedupeById(sink.batches)
 */
export function dedupeById(batches: readonly ReceivedBatch[]): { events: SinkEvent[]; duplicates: number } {
  const seen = new Set<string>()
  const events: SinkEvent[] = []
  let duplicates = 0
  for (const b of batches)
    for (const e of b.events) {
      if (seen.has(e.id)) duplicates++
      else {
        seen.add(e.id)
        events.push(e)
      }
    }
  return { events, duplicates }
}
