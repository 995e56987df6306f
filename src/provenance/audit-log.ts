import { open, readFile, type FileHandle } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { RedisClient } from '../queue/connection.js'
import { z } from 'zod'
import { LuaScript } from '../queue/lua-script.js'
import { digestOf } from './canonical-json.js'
import { DsseEnvelope } from './dsse.js'

/** The `prev` of the first entry. */
export const GENESIS_DIGEST = `sha256:${'0'.repeat(64)}`

/** One audit record: a signed envelope linked to the previous entry by its digest. */
export const AuditEntry = z.object({
  seq: z.number().int().positive(),
  prev: z.string(),
  time: z.string(),
  envelope: DsseEnvelope,
  /** digestOf({ seq, prev, time, envelope }). */
  digest: z.string(),
})
export type AuditEntry = z.infer<typeof AuditEntry>

/** Where an entry lives: a line number (file) or a stream id (Redis). */
export interface AuditLocated {
  entry: unknown
  where: string
}

/** The result of walking the chain: ok, or the first broken link and why. */
export type AuditVerification =
  | { ok: true; count: number }
  | { ok: false; count: number; brokenAt: { index: number; where: string; reason: string } }

/** An append-only, hash-chained log of signed execution records. */
export interface AuditLog {
  /** Appends one envelope; resolves to the stored entry (with its seq and digest). */
  append(envelope: DsseEnvelope, time?: Date): Promise<AuditEntry>
  /** Every stored entry in order, raw (verification parses them). */
  read(): AsyncIterable<AuditLocated>
  close(): Promise<void>
}

function entryDigest(e: Omit<AuditEntry, 'digest'>): string {
  return digestOf({ seq: e.seq, prev: e.prev, time: e.time, envelope: e.envelope })
}

function makeEntry(seq: number, prev: string, time: Date, envelope: DsseEnvelope): AuditEntry {
  const base = { seq, prev, time: time.toISOString(), envelope }
  return { ...base, digest: entryDigest(base) }
}

/**
 * Walks a log from the start and names the first broken link: an unreadable entry, a digest that
 * does not match the entry's content, a `prev` that is not the previous digest, or a gap in seq.
 *
 * @example
 *   const v = await verifyAuditChain(new FileAuditLog('.data/audit.jsonl'))
 *   if (!v.ok) console.error(`broken at ${v.brokenAt.where}: ${v.brokenAt.reason}`)
 */
export async function verifyAuditChain(log: Pick<AuditLog, 'read'>): Promise<AuditVerification> {
  let prev = GENESIS_DIGEST
  let index = 0
  for await (const { entry, where } of log.read()) {
    const broken = (reason: string): AuditVerification => ({
      ok: false,
      count: index,
      brokenAt: { index, where, reason },
    })
    const parsed = AuditEntry.safeParse(entry)
    if (!parsed.success) return broken('not an audit entry')
    const e = parsed.data
    if (e.seq !== index + 1)
      return broken(`seq ${e.seq} where ${index + 1} was expected (an entry is missing)`)
    if (e.prev !== prev) return broken(`prev ${e.prev} does not link to the previous entry's digest ${prev}`)
    if (entryDigest(e) !== e.digest)
      return broken('content does not match its digest (the entry was changed)')
    prev = e.digest
    index += 1
  }
  return { ok: true, count: index }
}

/**
 * The audit log as a JSONL file. Appends are serialised within the process; for several worker
 * processes use the Redis log, whose appends are atomic across processes.
 *
 * @example
 *   const log = new FileAuditLog('.data/audit.jsonl')
 *   await log.append(envelope)
 */
export class FileAuditLog implements AuditLog {
  private tip: { seq: number; digest: string } | undefined
  private handle: Promise<FileHandle> | undefined
  private queue: Promise<unknown> = Promise.resolve()

  constructor(readonly path: string) {}

  append(envelope: DsseEnvelope, time = new Date()): Promise<AuditEntry> {
    const next = this.queue.then(async () => {
      const tip = this.tip ?? (await this.readTip())
      const entry = makeEntry(tip.seq + 1, tip.digest, time, envelope)
      const fh = await this.fileHandle()
      await fh.appendFile(`${JSON.stringify(entry)}\n`)
      this.tip = { seq: entry.seq, digest: entry.digest }
      return entry
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  async *read(): AsyncIterable<AuditLocated> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? ''
      if (line.trim() === '') continue
      let entry: unknown
      try {
        entry = JSON.parse(line)
      } catch {
        entry = undefined
      }
      yield { entry, where: `${this.path}:${i + 1}` }
    }
  }

  async close(): Promise<void> {
    const fh = this.handle
    this.handle = undefined
    if (fh) await (await fh).close()
  }

  private fileHandle(): Promise<FileHandle> {
    if (!this.handle) {
      mkdirSync(dirname(this.path), { recursive: true })
      this.handle = open(this.path, 'a', 0o600)
    }
    return this.handle
  }

  private async readTip(): Promise<{ seq: number; digest: string }> {
    let last: AuditEntry | undefined
    for await (const { entry } of this.read()) {
      const parsed = AuditEntry.safeParse(entry)
      if (parsed.success) last = parsed.data
    }
    return last ? { seq: last.seq, digest: last.digest } : { seq: 0, digest: GENESIS_DIGEST }
  }
}

// Compare-and-append: the entry is added only if the chain tip is still the one the entry links
// to, so two workers appending at once cannot fork the chain; the loser re-links and retries.
const APPEND_SCRIPT = new LuaScript(`
local tip = redis.call('GET', KEYS[2]) or ARGV[4]
if tip ~= ARGV[1] then return {0, tip} end
local id = redis.call('XADD', KEYS[1], '*', 'entry', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
return {1, id}
`)

/**
 * The audit log as a Redis stream (`<prefix>:audit`, tip in `<prefix>:audit:tip`), shared by every
 * worker. Entries are never edited; XDEL of one shows up in verification as a broken link.
 *
 * @example
 *   const log = new RedisAuditLog(redis)        // keys under {uw}
 */
export class RedisAuditLog implements AuditLog {
  private readonly streamKey: string
  private readonly tipKey: string
  private tip: string | undefined

  constructor(
    private readonly redis: RedisClient,
    prefix = '{uw}',
  ) {
    this.streamKey = `${prefix}:audit`
    this.tipKey = `${prefix}:audit:tip`
  }

  async append(envelope: DsseEnvelope, time = new Date()): Promise<AuditEntry> {
    const genesis = `0 ${GENESIS_DIGEST}`
    let tip = this.tip ?? (await this.redis.get(this.tipKey)) ?? genesis
    for (let i = 0; i < 100; i++) {
      const [seqText, prev] = tip.split(' ')
      const entry = makeEntry(Number(seqText) + 1, prev ?? GENESIS_DIGEST, time, envelope)
      const newTip = `${entry.seq} ${entry.digest}`
      const res = (await APPEND_SCRIPT.run(
        this.redis,
        [this.streamKey, this.tipKey],
        [tip, newTip, JSON.stringify(entry), genesis],
      )) as [number, string]
      if (res[0] === 1) {
        this.tip = newTip
        return entry
      }
      tip = res[1]
    }
    throw new Error('audit append lost the race 100 times in a row')
  }

  async *read(): AsyncIterable<AuditLocated> {
    let start = '-'
    for (;;) {
      const page = await this.redis.xrange(this.streamKey, start, '+', 'COUNT', 500)
      for (const [id, fields] of page) {
        const i = fields.indexOf('entry')
        let entry: unknown
        try {
          entry = i >= 0 ? JSON.parse(fields[i + 1] ?? '') : undefined
        } catch {
          entry = undefined
        }
        yield { entry, where: `${this.streamKey} ${id}` }
      }
      const last = page.at(-1)
      if (!last || page.length < 500) return
      start = `(${last[0]}`
    }
  }

  async close(): Promise<void> {
    // The connection belongs to the caller.
  }
}
