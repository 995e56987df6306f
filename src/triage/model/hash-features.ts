import { cleanText } from './clean-text.js'

/** A sparse feature vector: bucket indices (sorted, unique) and their values. */
export interface SparseVector {
  index: Int32Array
  value: Float32Array
}

/** How text becomes features. Stored with a model: the same options must featurise at predict time. */
export interface FeatureOptions {
  /** log2 of the number of hash buckets. */
  bits: number
  /** Character n-gram sizes (inclusive range) over the cleaned title and body. */
  charMin: number
  charMax: number
  /** Cleaned body characters used for character n-grams and words. */
  maxChars: number
  /** Block weights: each block is l2-normalised, then scaled. */
  titleWeight: number
  bodyWeight: number
  charWeight: number
  /**
   * Exponent of the idf weighting (ln((1 + docs) / (1 + df)) + 1, document frequencies of the
   * prior's corpus): 0 turns it off, 1 is plain tf-idf.
   */
  idfPower: number
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  bits: 18,
  charMin: 2,
  charMax: 5,
  maxChars: 3000,
  titleWeight: 1,
  bodyWeight: 1,
  charWeight: 1,
  idfPower: 0,
}

// Namespaces keep title words, body words and character n-grams from sharing buckets by design.
const NS_TITLE = 0x9e3779b1
const NS_BODY = 0x85ebca77
const NS_CHAR = 0xc2b2ae3d
const NS_BIGRAM = 0x27d4eb2f

function fnv(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const WORD = /[a-z][a-z0-9_']*|[0-9]+/g

/** bucket -> a readable name of one feature that hashes there, filled only when explaining. */
export type FeatureNames = Map<number, string>

function addWords(text: string, seed: number, mask: number, out: Accumulator, names?: FeatureNames): void {
  const words = text.match(WORD) ?? []
  const prefix = seed === NS_TITLE ? 'title:' : ''
  let prev = 0
  for (let i = 0; i < words.length; i++) {
    const h = fnv(words[i]!, seed)
    const b = mix(h) & mask
    out.add(b, 1)
    if (names && !names.has(b)) names.set(b, `${prefix}${words[i]}`)
    if (i > 0) {
      const bb = mix(Math.imul(prev, 31) ^ h ^ NS_BIGRAM) & mask
      out.add(bb, 1)
      if (names && !names.has(bb)) names.set(bb, `${prefix}${words[i - 1]} ${words[i]}`)
    }
    prev = h
  }
}

function addChars(
  text: string,
  opts: FeatureOptions,
  mask: number,
  out: Accumulator,
  names?: FeatureNames,
): void {
  // Word-bounded like scikit-learn's char_wb: pad with spaces so prefixes and suffixes are n-grams.
  const s = ` ${text} `
  for (let i = 0; i + opts.charMin <= s.length; i++) {
    let h = (0x811c9dc5 ^ NS_CHAR) >>> 0
    for (let n = 1; n <= opts.charMax && i + n <= s.length; n++) {
      h ^= s.charCodeAt(i + n - 1)
      h = Math.imul(h, 0x01000193)
      if (n >= opts.charMin) {
        const b = mix(h ^ n) & mask
        out.add(b, 1)
        if (names && !names.has(b)) names.set(b, `chars:"${s.slice(i, i + n)}"`)
      }
    }
  }
}

/**
 * A reusable bucket -> count accumulator: a dense array plus the list of touched buckets, so
 * featurising an issue allocates almost nothing (a Map here cost more than the whole model).
 */
class Accumulator {
  readonly values: Float64Array
  touched: Int32Array
  size = 0
  constructor(buckets: number) {
    this.values = new Float64Array(buckets)
    this.touched = new Int32Array(1024)
  }
  add(b: number, v: number): void {
    if (this.values[b] === 0) {
      if (this.size === this.touched.length) {
        const grown = new Int32Array(this.size * 2)
        grown.set(this.touched)
        this.touched = grown
      }
      this.touched[this.size++] = b
    }
    this.values[b]! += v
  }
  clear(): void {
    for (let i = 0; i < this.size; i++) this.values[this.touched[i]!] = 0
    this.size = 0
  }
}

const scratch = new Map<number, { block: Accumulator; merged: Accumulator }>()

/** Sublinear tf times idf, then l2 normalisation scaled to `weight`, merged into `into`. */
function addBlock(counts: Accumulator, weight: number, into: Accumulator, idf?: Float32Array): void {
  if (weight === 0 || counts.size === 0) return
  let norm = 0
  for (let i = 0; i < counts.size; i++) {
    const b = counts.touched[i]!
    const v = (counts.values[b] = (1 + Math.log(counts.values[b]!)) * (idf ? idf[b]! : 1))
    norm += v * v
  }
  const scale = weight / Math.sqrt(norm)
  for (let i = 0; i < counts.size; i++) {
    const b = counts.touched[i]!
    into.add(b, counts.values[b]! * scale)
  }
}

/** An issue as the classifier sees it. */
export interface IssueText {
  title: string
  body?: string | null
}

/**
 * Turns an issue into a hashed sparse vector: title words, body words (unigrams and bigrams) and
 * character n-grams of title + body, each block with sublinear tf (times `idf`, a per-bucket weight,
 * when given) and l2-normalised.
 *
 * @example
 * const x = featurize({ title: 'Crash on start', body: 'It segfaults' }, DEFAULT_FEATURE_OPTIONS)
 */
export function featurize(
  issue: IssueText,
  opts: FeatureOptions,
  names?: FeatureNames,
  idf?: Float32Array,
): SparseVector {
  const mask = (1 << opts.bits) - 1
  // Cut before cleaning too: some bodies are whole logs of 200 kB.
  const title = cleanText(issue.title.slice(0, 1000))
  const body = cleanText((issue.body ?? '').slice(0, opts.maxChars * 3)).slice(0, opts.maxChars)
  let buffers = scratch.get(opts.bits)
  if (!buffers)
    scratch.set(
      opts.bits,
      (buffers = { block: new Accumulator(mask + 1), merged: new Accumulator(mask + 1) }),
    )
  const { block, merged } = buffers
  merged.clear()
  block.clear()
  addWords(title, NS_TITLE, mask, block, names)
  addBlock(block, opts.titleWeight, merged, idf)
  block.clear()
  addWords(body, NS_BODY, mask, block, names)
  addBlock(block, opts.bodyWeight, merged, idf)
  block.clear()
  addChars(`${title} ${body}`, opts, mask, block, names)
  addBlock(block, opts.charWeight, merged, idf)
  block.clear()
  const index = merged.touched.slice(0, merged.size).sort()
  const value = new Float32Array(index.length)
  for (let i = 0; i < index.length; i++) value[i] = merged.values[index[i]!]!
  merged.clear()
  return { index, value }
}
