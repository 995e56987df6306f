import { createHmac, randomUUID } from 'node:crypto'

/** A webhook registered on the double, like a repository webhook of type "gitea". */
export interface WebhookTarget {
  url: string
  /** '' sends the signature headers empty, as Gitea does for a hook without a secret. */
  secret: string
  contentType: 'json' | 'form'
  /** Fine-grained event types (X-Gitea-Event-Type) to deliver; undefined = all. */
  events?: string[]
}

export interface WebhookDelivery {
  id: string
  url: string
  event: string
  eventType: string
  /** The exact JSON bytes that were signed. */
  body: string
  headers: Record<string, string>
  /** The receiver's HTTP status, or undefined when no answer came (see `error`). */
  status?: number
  error?: string
  done: boolean
}

/** Gitea's delivery timeout ([webhook] DELIVER_TIMEOUT default 5 s); it never retries. */
export const WEBHOOK_TIMEOUT_MS = 5_000

/**
 * Serialises like Go's encoding/json with indentation: two-space indent, and <, >, & and
 * U+2028/2029 escaped, so signatures are computed over bytes shaped like Gitea's.
 */
export function goJson(payload: unknown): string {
  return JSON.stringify(payload, null, 2)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029')
}

/** The headers Gitea 1.26.3 sends (services/webhook/deliver.go addDefaultHeaders), in its order. */
export function webhookHeaders(input: {
  deliveryId: string
  event: string
  eventType: string
  secret: string
  body: string
  contentType: 'json' | 'form'
}): Record<string, string> {
  const { deliveryId: id, event, eventType: type, secret, body } = input
  const sha256 = secret === '' ? '' : createHmac('sha256', secret).update(body).digest('hex')
  const sha1 = secret === '' ? '' : createHmac('sha1', secret).update(body).digest('hex')
  return {
    'Content-Type': input.contentType === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    'User-Agent': 'Go-http-client/1.1',
    'X-Gitea-Delivery': id,
    'X-Gitea-Event': event,
    'X-Gitea-Event-Type': type,
    'X-Gitea-Signature': sha256,
    'X-Gitea-Hook-Installation-Target-Type': 'repository',
    'X-Gogs-Delivery': id,
    'X-Gogs-Event': event,
    'X-Gogs-Event-Type': type,
    'X-Gogs-Signature': sha256,
    'X-Hub-Signature': `sha1=${sha1}`,
    'X-Hub-Signature-256': `sha256=${sha256}`,
    'X-GitHub-Delivery': id,
    'X-GitHub-Event': event,
    'X-GitHub-Event-Type': type,
    'X-GitHub-Hook-Installation-Target-Type': 'repository',
  }
}

/**
 * Delivers webhooks the way Gitea does: fire-and-forget, one attempt, 5 s timeout. Each
 * delivery is recorded with the receiver's status so tests can assert on it.
 */
export class WebhookSender {
  readonly deliveries: WebhookDelivery[] = []
  private readonly inFlight = new Set<Promise<void>>()

  constructor(private readonly timeoutMs: number = WEBHOOK_TIMEOUT_MS) {}

  /** Starts one delivery per matching target and returns their records without waiting. */
  send(targets: WebhookTarget[], event: string, eventType: string, payload: unknown): WebhookDelivery[] {
    const body = goJson(payload)
    return targets
      .filter((t) => !t.events || t.events.includes(eventType))
      .map((target) => {
        const id = randomUUID()
        const headers = webhookHeaders({
          deliveryId: id,
          event,
          eventType,
          secret: target.secret,
          body,
          contentType: target.contentType,
        })
        const delivery: WebhookDelivery = {
          id,
          url: target.url,
          event,
          eventType,
          body,
          headers,
          done: false,
        }
        this.deliveries.push(delivery)
        // A form delivery carries the JSON in `payload=`; the signature stays over the JSON.
        const wire = target.contentType === 'json' ? body : new URLSearchParams({ payload: body }).toString()
        const attempt = fetch(target.url, {
          method: 'POST',
          headers,
          body: wire,
          signal: AbortSignal.timeout(this.timeoutMs),
        })
          .then(async (res) => {
            delivery.status = res.status
            await res.body?.cancel()
          })
          .catch((err: unknown) => {
            delivery.error = err instanceof Error ? err.message : String(err)
          })
          .finally(() => {
            delivery.done = true
            this.inFlight.delete(attempt)
          })
        this.inFlight.add(attempt)
        return delivery
      })
  }

  /** Resolves when every delivery started so far has an answer or an error. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }
}
