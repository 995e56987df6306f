import type { Context } from 'hono'
import { markHop } from '../hop-trace.js'
import type { Logger } from '../logger.js'
import { resolveEventType, GITEA_EVENT_TYPES } from '../events/event-type.js'
import { isSupportedEvent, parsePayload, type EventJob } from '../events/payloads.js'
import type { EventsProducer } from '../queue/events-producer.js'
import type { IngressMetrics, WebhookResult } from './ingress-metrics.js'
import { BodyTooLargeError, readBody } from './read-body.js'
import { verifySignature } from './verify-signature.js'

/** What the webhook route needs; a subset of AppDeps. */
export interface WebhookDeps {
  secrets: readonly string[]
  maxBodyBytes: number
  botLogin: string
  events: EventsProducer
  log: Logger
  metrics: IngressMetrics
}

// Gitea sends UUIDs; anything printable and short is accepted, but never `:` (a Redis key
// separator that BullMQ refuses in job ids) or spaces.
const DELIVERY_ID = /^[A-Za-z0-9_.-]{1,128}$/

type Media = 'json' | 'form'

function mediaType(header: string | undefined): Media | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase()
  if (type === 'application/json') return 'json'
  if (type === 'application/x-www-form-urlencoded') return 'form'
  return undefined
}

/**
 * POST /webhooks/gitea: verify, parse, answer (webhooks.js order). Checks run cheapest first and
 * nothing touches Redis before the signature and the payload are known good.
 */
export async function handleWebhook(c: Context, deps: WebhookDeps): Promise<Response> {
  const header = (name: string) => c.req.header(name) || undefined
  const deliveryId = header('x-gitea-delivery') ?? header('x-forgejo-delivery')
  const headerEvent = header('x-gitea-event-type') ?? header('x-forgejo-event-type')
  const coarseEvent = header('x-gitea-event') ?? header('x-forgejo-event')
  const log = deps.log.child({ deliveryId })
  let eventLabel = headerEvent ?? coarseEvent ?? 'unknown'

  const answer = (status: number, result: WebhookResult, body: Record<string, unknown>, extra?: Headers) => {
    deps.metrics.webhooks.inc({ event: GITEA_EVENT_TYPES.has(eventLabel) ? eventLabel : 'other', result })
    if (status >= 400) log.warn({ status, result, event: eventLabel, ...body }, 'webhook refused')
    return c.json(body, status as 200, extra ? Object.fromEntries(extra) : undefined)
  }

  if (!deliveryId) return answer(400, 'bad_request', { error: 'missing X-Gitea-Delivery header' })
  if (!DELIVERY_ID.test(deliveryId))
    return answer(400, 'bad_request', { error: 'X-Gitea-Delivery must be 1-128 of [A-Za-z0-9_.-]' })
  if (!headerEvent && !coarseEvent)
    return answer(400, 'bad_request', { error: 'missing X-Gitea-Event-Type / X-Gitea-Event header' })

  const media = mediaType(header('content-type'))
  if (!media)
    return answer(415, 'unsupported_media_type', {
      error: 'content type must be application/json or application/x-www-form-urlencoded',
    })

  const signatures = {
    gitea: header('x-gitea-signature'),
    forgejo: header('x-forgejo-signature'),
    hub256: header('x-hub-signature-256'),
  }
  if (!signatures.gitea?.trim() && !signatures.forgejo?.trim() && !signatures.hub256?.trim())
    return answer(401, 'unauthorized', { error: 'missing signature' })

  // Close the connection after a 413 so the rest of a huge upload is not read and discarded.
  const tooLarge = () =>
    answer(
      413,
      'too_large',
      { error: `body is larger than ${deps.maxBodyBytes} bytes` },
      new Headers({ connection: 'close' }),
    )
  const declared = Number(header('content-length'))
  if (Number.isFinite(declared) && declared > deps.maxBodyBytes) return tooLarge()
  let raw: Buffer
  try {
    raw = await readBody(c.req.raw.body, deps.maxBodyBytes)
  } catch (err) {
    if (err instanceof BodyTooLargeError) return tooLarge()
    throw err
  }

  // A form delivery is signed over the JSON in its `payload` field, not over the form body.
  let json: Buffer = raw
  if (media === 'form') {
    const payload = new URLSearchParams(raw.toString('utf8')).get('payload')
    if (payload === null) return answer(400, 'bad_request', { error: 'form body has no payload field' })
    json = Buffer.from(payload, 'utf8')
  }

  const check = verifySignature(json, signatures, deps.secrets)
  if (!check.ok) return answer(401, 'unauthorized', { error: check.reason })

  let decoded: unknown
  try {
    decoded = JSON.parse(json.toString('utf8'))
  } catch {
    return answer(400, 'bad_request', { error: 'body is not valid JSON' })
  }

  const event = resolveEventType({ eventType: headerEvent, event: coarseEvent }, decoded) ?? 'unknown'
  eventLabel = event
  if (!isSupportedEvent(event)) {
    log.info({ event }, 'webhook ignored: event not handled')
    return answer(200, 'ignored', { ignored: true, event, reason: 'event not handled' })
  }

  const parsed = parsePayload(event, decoded)
  if (!parsed.ok)
    return answer(422, 'unprocessable', {
      error: `payload does not match the ${event} schema at ${parsed.problem.path}: ${parsed.problem.message}`,
      path: parsed.problem.path,
    })

  // The bot hears its own comments and label changes; reacting to them would loop.
  if (parsed.payload.sender.login.toLowerCase() === deps.botLogin.toLowerCase()) {
    log.debug({ event }, 'webhook dropped: sent by the bot')
    return answer(200, 'dropped_self', { dropped: true, reason: 'sent by the bot itself', event })
  }

  const job = {
    deliveryId,
    event,
    action: parsed.payload.action,
    receivedAt: new Date().toISOString(),
    payload: parsed.payload,
  } as EventJob
  let outcome: 'enqueued' | 'duplicate'
  try {
    outcome = await deps.events.enqueue(job)
  } catch (err) {
    log.error({ err, event }, 'webhook not enqueued: redis unavailable')
    return answer(503, 'unavailable', { error: 'queue unavailable, delivery not accepted; redeliver later' })
  }
  if (outcome === 'duplicate') {
    log.info({ event }, 'webhook duplicate: already enqueued')
    return answer(200, 'duplicate', { duplicate: true, deliveryId })
  }
  log.info({ event, action: job.action }, 'webhook accepted')
  markHop('ingress.accepted', deliveryId)
  return answer(202, 'accepted', { deliveryId, event })
}
