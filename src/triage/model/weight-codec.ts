import { z } from 'zod'
import type { SparseWeights } from './softmax-regression.js'

/** f32 keeps weights exactly; i8 quantises each class column to 255 levels (for the shipped prior). */
export const WeightPrecision = z.enum(['f32', 'i8'])
export type WeightPrecision = z.infer<typeof WeightPrecision>

export interface EncodedWeights {
  precision: WeightPrecision
  /** base64 of Int32Array bucket ids, in row order. */
  buckets: string
  /** base64 of Float32Array or Int8Array, rows x classes. */
  values: string
  /** Per-class scale for i8 (value = int8 * scale); empty for f32. */
  scales: number[]
}

const b64 = (a: ArrayBufferView): string =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')

function fromB64(s: string): Buffer {
  // Copy into a fresh, aligned buffer: typed array views need aligned offsets.
  const raw = Buffer.from(s, 'base64')
  const copy = Buffer.alloc(raw.length)
  raw.copy(copy)
  return copy
}

/**
 * Encodes sparse weights compactly for JSON.
 *
 * @example
 * const enc = encodeWeights(weights, 'i8'); decodeWeights(enc, weights.classes, [...weights.bias])
 */
export function encodeWeights(weights: SparseWeights, precision: WeightPrecision): EncodedWeights {
  const C = weights.classes
  const buckets = new Int32Array(weights.rows.size)
  for (const [bucket, row] of weights.rows) buckets[row] = bucket
  if (precision === 'f32') return { precision, buckets: b64(buckets), values: b64(weights.w), scales: [] }
  const scales = Array.from({ length: C }, () => 0)
  for (let i = 0; i < weights.w.length; i++) scales[i % C] = Math.max(scales[i % C]!, Math.abs(weights.w[i]!))
  for (let c = 0; c < C; c++) scales[c] = scales[c]! / 127 || 1
  const q = new Int8Array(weights.w.length)
  for (let i = 0; i < q.length; i++) q[i] = Math.round(weights.w[i]! / scales[i % C]!)
  return { precision, buckets: b64(buckets), values: b64(q), scales }
}

/** Inverse of `encodeWeights`; throws when the arrays do not fit together. */
export function decodeWeights(enc: EncodedWeights, classes: number, bias: number[]): SparseWeights {
  const bb = fromB64(enc.buckets)
  const buckets = new Int32Array(bb.buffer, bb.byteOffset, bb.byteLength / 4)
  const vb = fromB64(enc.values)
  let w: Float32Array
  if (enc.precision === 'f32') w = new Float32Array(vb.buffer, vb.byteOffset, vb.byteLength / 4)
  else {
    const q = new Int8Array(vb.buffer, vb.byteOffset, vb.byteLength)
    w = new Float32Array(q.length)
    for (let i = 0; i < q.length; i++) w[i] = q[i]! * enc.scales[i % classes]!
  }
  if (w.length !== buckets.length * classes || bias.length !== classes)
    throw new Error('triage model weights do not match their class count')
  const rows = new Map<number, number>()
  buckets.forEach((b, i) => rows.set(b, i))
  return { classes, rows, w, bias: Float32Array.from(bias) }
}
