import { signBody } from '../../src/server/verify-signature.js'
import { BOT_LOGIN, fixture, SECRET, signedHeaders, type RawHeaders } from './ingress-rig.js'

/**
 * One fuzzed request. `signed` says whether it carries a valid signature over its JSON: unsigned
 * or badly signed requests must have no side effect at all; signed ones may be accepted, and an
 * accepted one must be in the queue exactly once.
 */
export interface Mutation {
  kind: string
  signed: boolean
  deliveryId: string | undefined
  headers: RawHeaders
  body: Buffer
  chunked: boolean
}

const MB = 1024 * 1024

const BASES: [string, string][] = [
  ['issue_comment-created-issue.json', 'issue_comment'],
  ['issue_comment-created-pull_request.json', 'pull_request_comment'],
  ['issue_comment-edited.json', 'issue_comment'],
  ['issues-opened.json', 'issues'],
  ['issues-label_updated.json', 'issue_label'],
  ['pull_request-opened.json', 'pull_request'],
]
const baseTexts = BASES.map(([file, event]) => ({ event, payload: fixture(file) }))

/** Every JSON path to a leaf or object in a value, for type mutations. */
function paths(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, k]
      out.push(p)
      if (p.length < 4) paths(v, p, out)
    }
  }
  return out
}
const basePaths = baseTexts.map((b) => paths(b.payload))

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur: Record<string, unknown> = obj
  for (const key of path.slice(0, -1)) {
    const next = cur[key]
    if (!next || typeof next !== 'object') return
    cur = next as Record<string, unknown>
  }
  cur[path[path.length - 1] as string] = value
}

/** Random printable-ish text including the troublesome parts of Unicode. */
function unicodeText(rnd: () => number, n: number): string {
  const parts = [
    'a',
    'é',
    '🧙',
    '\u202E',
    '\u200B',
    '\uD800',
    '\uDFFF',
    '\u0000',
    '"',
    '\\',
    '\n',
    'ǅ',
    '\uFFFF',
    '𝒰',
  ]
  let s = ''
  for (let i = 0; i < n; i++) s += parts[Math.floor(rnd() * parts.length)]
  return s
}

function deepNest(depth: number, open: string, close: string): string {
  return `${open.repeat(depth)}${close.repeat(depth)}`
}

/** Creates the mutation generator for a seed-derived PRNG. `idPrefix` namespaces delivery ids per phase. */
export function mutations(rnd: () => number, idPrefix: string) {
  const int = (n: number) => Math.floor(rnd() * n)
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T
  let seq = 0
  let hugeLeft = 12
  let oversizeLeft = 8
  const nextId = (signed: boolean) => `${signed ? 'ok' : 'bad'}-${idPrefix}-${seq++}`

  function base(): { event: string; payload: Record<string, unknown> } {
    const b = pick(baseTexts)
    return { event: b.event, payload: structuredClone(b.payload) }
  }

  /** A correctly signed delivery of `body`, with a header permutation that keeps it valid or 4xx. */
  function signedRequest(kind: string, event: string, body: Buffer): Mutation {
    const id = nextId(true)
    const headers: RawHeaders = signedHeaders(body, id, event)
    let chunked = rnd() < 0.2
    let payloadBody = body
    switch (int(14)) {
      case 0: // header names in odd case
        for (const k of Object.keys(headers)) {
          const v = headers[k] as string
          delete headers[k]
          headers[
            k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + (rnd() < 0.5 ? c.toUpperCase() : c))
          ] = v
        }
        break
      case 1:
        headers['content-type'] = pick([
          'application/json; charset=utf-8',
          'APPLICATION/JSON',
          ' application/json ',
          'application/json;',
        ])
        break
      case 2: // only one of the three signature headers
        delete headers['x-hub-signature-256']
        if (rnd() < 0.5) {
          headers['x-forgejo-signature'] = headers['x-gitea-signature'] as string
          delete headers['x-gitea-signature']
        }
        break
      case 3: // form-encoded: the signature covers the JSON inside `payload`
        headers['content-type'] = 'application/x-www-form-urlencoded'
        payloadBody = Buffer.from(new URLSearchParams({ payload: body.toString('utf8') }).toString())
        break
      case 4: // event only in the coarse header
        delete headers['x-gitea-event-type']
        break
      case 5: // repeated header lines: joined by Node, so never a valid delivery id or signature
        headers[pick(['x-gitea-delivery', 'x-gitea-signature', 'x-gitea-event-type', 'content-type'])] = [
          String(headers['x-gitea-delivery']),
          String(headers['x-gitea-delivery']),
        ]
        break
      case 6: // uppercase hex: the same HMAC
        headers['x-gitea-signature'] = (headers['x-gitea-signature'] as string).toUpperCase()
        headers['x-hub-signature-256'] = `sha256=${(headers['x-gitea-signature'] as string).toUpperCase()}`
        break
      case 7:
        delete headers[pick(['x-gitea-delivery', 'x-gitea-event-type', 'content-type'])]
        delete headers['x-gitea-event']
        break
      case 8: // a hostile delivery id
        headers['x-gitea-delivery'] = pick([
          'a:b',
          '../../etc',
          'x'.repeat(200),
          'ünï',
          'a b',
          '*',
          `${id}\t`,
        ])
        break
      case 9: // hostile event names: prototype keys, padding, a huge header (Node answers 431)
        headers[pick(['x-gitea-event-type', 'x-gitea-event', 'x-forgejo-event-type'])] = pick([
          '__proto__',
          'constructor',
          'toString',
          'hasOwnProperty',
          'issues ',
          'ISSUES',
          'push',
          'e'.repeat(20_000),
        ])
        break
      default:
        chunked ||= rnd() < 0.1
    }
    return { kind, signed: true, deliveryId: id, headers, body: payloadBody, chunked }
  }

  /** Signature-valid payloads with hostile content. */
  function hostile(): Mutation {
    const { event, payload } = base()
    const choice = int(12)
    let text: string | undefined
    let kind = 'hostile'
    switch (choice) {
      case 0: {
        kind = 'proto-pollution'
        const where = pick(['', '"comment":', '"sender":', '"issue":'])
        const evil =
          '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"login":"x"}'
        const json = JSON.stringify(payload)
        text =
          where === ''
            ? `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},${json.slice(1)}`
            : json.replace(where, `${where}${evil},"_shadow":`)
        break
      }
      case 1: {
        kind = 'deep-nesting'
        const nest = deepNest(pick([1000, 10_000, 100_000]), pick(['[', '{"a":']), '')
        const closing = nest.startsWith('[') ? ']'.repeat(nest.length) : '}'.repeat(nest.length / 5)
        const field = pick(['extra', 'comment', 'issue', 'sender'])
        text = JSON.stringify({ ...payload, [field]: 0 }).replace(
          `"${field}":0`,
          `"${field}":${nest}${closing}`,
        )
        break
      }
      case 2: {
        kind = 'huge-string'
        const size = hugeLeft-- > 0 ? 4 * MB : 64 * 1024
        const c = (payload.comment ?? payload.issue ?? payload.pull_request) as { body?: string } | undefined
        if (c) c.body = 'x'.repeat(size - 4096)
        else payload.extra = 'x'.repeat(size)
        break
      }
      case 3: {
        kind = 'unicode'
        const c = (payload.comment ?? payload.issue) as { body?: string } | undefined
        if (c) c.body = unicodeText(rnd, 2000)
        ;(payload.sender as { login: string }).login = unicodeText(rnd, 8)
        break
      }
      case 4: {
        kind = 'numbers-as-strings'
        for (const p of basePaths[0]!.filter(() => rnd() < 0.2)) setPath(payload, p, '123')
        break
      }
      case 5:
      case 6: {
        kind = 'wrong-type'
        const ps = paths(payload)
        for (let i = 0; i < 1 + int(3); i++)
          setPath(payload, pick(ps), pick([null, [], {}, true, -1, 1e308, '', 'x', [1, 2], { a: 1 }]))
        break
      }
      case 7:
        kind = 'not-an-object'
        text = pick(['null', '[]', '"text"', '1', 'true', '{}', '[{"action":"created"}]', '{"action":null}'])
        break
      case 8:
        kind = 'truncated-json'
        text = JSON.stringify(payload).slice(0, int(JSON.stringify(payload).length))
        break
      case 9:
        kind = 'random-bytes'
        return signedRequest(kind, event, Buffer.from(Array.from({ length: int(4096) }, () => int(256))))
      case 10:
        kind = 'sent-by-bot'
        ;(payload.sender as { login: string }).login = pick([BOT_LOGIN, BOT_LOGIN.toUpperCase()])
        break
      default: {
        kind = 'huge-number'
        text = JSON.stringify(payload).replace(
          /"id":\d+/,
          pick(['"id":1e400', '"id":-0', '"id":12345678901234567890123', '"id":1.5']),
        )
      }
    }
    const body = Buffer.from(text ?? JSON.stringify(payload))
    return signedRequest(kind, event, body)
  }

  /** Unsigned, badly signed, or refused before the signature is looked at. */
  function unsigned(): Mutation {
    const { event, payload } = base()
    const id = nextId(false)
    let body = Buffer.from(JSON.stringify(payload))
    const headers: RawHeaders = signedHeaders(body, id, event)
    let kind = 'bad-signature'
    switch (int(12)) {
      case 0:
        kind = 'no-signature'
        delete headers['x-gitea-signature']
        delete headers['x-hub-signature-256']
        break
      case 1:
        kind = 'empty-signature'
        headers['x-gitea-signature'] = ''
        headers['x-hub-signature-256'] = pick(['', 'sha256='])
        break
      case 2:
        kind = 'wrong-secret'
        headers['x-gitea-signature'] = signBody(body, `${SECRET}x`)
        delete headers['x-hub-signature-256']
        break
      case 3:
        kind = 'tampered-body'
        body = Buffer.from(JSON.stringify({ ...payload, action: 'deleted' }))
        break
      case 4:
        kind = 'one-good-one-forged'
        headers['x-hub-signature-256'] = `sha256=${signBody(body, 'forged')}`
        break
      case 5:
        kind = 'malformed-signature'
        headers['x-gitea-signature'] = pick([
          'zz',
          'sha256=' + String(headers['x-gitea-signature']),
          String(headers['x-gitea-signature']).slice(1),
          `${String(headers['x-gitea-signature'])}00`,
          '\u00ff'.repeat(64),
        ])
        delete headers['x-hub-signature-256']
        break
      case 6:
        kind = 'random-bytes-unsigned'
        body = Buffer.from(Array.from({ length: int(8192) }, () => int(256)))
        break
      case 7:
        kind = 'wrong-content-type'
        headers['content-type'] = pick([
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          '',
          'application/jsonx',
          'json',
        ])
        break
      case 8:
        kind = 'form-signed-over-form'
        headers['content-type'] = 'application/x-www-form-urlencoded'
        body = Buffer.from(new URLSearchParams({ payload: body.toString('utf8') }).toString())
        headers['x-gitea-signature'] = signBody(body, SECRET)
        delete headers['x-hub-signature-256']
        break
      case 9:
        kind = 'oversize'
        if (oversizeLeft-- > 0) body = Buffer.alloc(5 * MB + 1 + int(MB), 0x20)
        headers['x-gitea-signature'] = signBody(body, `${SECRET}x`)
        delete headers['x-hub-signature-256']
        break
      case 10:
        kind = 'huge-string-unsigned'
        body = Buffer.from(JSON.stringify({ ...payload, extra: 'y'.repeat(int(3) === 0 ? 2 * MB : 1024) }))
        delete headers['x-gitea-signature']
        break
      default:
        kind = 'truncated-signed-prefix'
        // Signed over the whole body, but only a prefix is sent.
        body = body.subarray(0, int(body.length))
    }
    return { kind, signed: false, deliveryId: id, headers, body, chunked: rnd() < 0.2 }
  }

  return { hostile, unsigned }
}
