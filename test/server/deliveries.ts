import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../fixtures/webhooks', import.meta.url))
/** Override with UW_GITEA_WEBHOOKS_DIR to run against a newer copy of the contract data. */
export const WEBHOOKS_DIR = process.env.UW_GITEA_WEBHOOKS_DIR ?? ROOT

/** One recorded or synthetic delivery, ready to POST. */
export interface Delivery {
  name: string
  body: Buffer
  headers: Record<string, string>
  /** The fine-grained event the ingress must report. */
  event: string
  action: string
}

interface HeadersFile {
  _secret: string
  deliveries: Record<
    string,
    {
      headers: Record<string, string>
      content_type_form_variant: { 'Content-Type': string; body_file: string }
    }
  >
}

/** The secret the synthetic vectors are signed with. */
export const SYNTHETIC_SECRET = 'webhook-test-secret'

/** Synthetic deliveries with their exact headers, plus each one's form-encoded variant. */
export function syntheticDeliveries(): Delivery[] {
  const dir = join(WEBHOOKS_DIR, 'synthetic')
  const file = JSON.parse(readFileSync(join(dir, 'headers.json'), 'utf8')) as HeadersFile
  return Object.entries(file.deliveries).flatMap(([name, d]) => {
    const headers = Object.fromEntries(Object.entries(d.headers).filter(([k]) => k !== 'Content-Length'))
    const body = readFileSync(join(dir, name))
    const action = (JSON.parse(body.toString('utf8')) as { action: string }).action
    const event = d.headers['X-Gitea-Event-Type']!
    const form = readFileSync(join(dir, d.content_type_form_variant.body_file))
    return [
      { name, body, headers, event, action },
      {
        name: `${name} (form)`,
        body: form,
        // Same recorded signature (it covers the JSON, not the form) under its own delivery id,
        // so it is not answered as a replay of the JSON variant.
        headers: {
          ...headers,
          'Content-Type': d.content_type_form_variant['Content-Type'],
          'X-Gitea-Delivery': `${headers['X-Gitea-Delivery']}-form`,
        },
        event,
        action,
      },
    ]
  })
}

interface IndexEntry {
  'X-Gitea-Event': string
  'X-Gitea-Event-Type': string
  action: string
}

/** Captured deliveries from real servers, with the event headers INDEX.json gives (unsigned). */
export function capturedDeliveries(): Delivery[] {
  const dir = join(WEBHOOKS_DIR, 'captured')
  const index = JSON.parse(readFileSync(join(dir, 'INDEX.json'), 'utf8')) as Record<string, IndexEntry>
  return Object.entries(index).map(([name, entry], i) => ({
    name,
    body: readFileSync(join(dir, name)),
    headers: {
      'Content-Type': 'application/json',
      'X-Gitea-Delivery': `captured-${i}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
      'X-Gitea-Event': entry['X-Gitea-Event'],
      'X-Gitea-Event-Type': entry['X-Gitea-Event-Type'],
    },
    event: entry['X-Gitea-Event-Type'],
    action: entry.action,
  }))
}
