import { z } from 'zod'

/**
 * How a house runs a tool. SIMPLE: direct, no learning. INTELLIGENT: predictions before running,
 * outcomes learned, adaptive timeouts. SOVEREIGN: approval required, signed provenance, audit.
 *
 * @example
 *   new Harness({ house: House.TIMMY, mode: Mode.SOVEREIGN })
 */
export const Mode = {
  SIMPLE: 'simple',
  INTELLIGENT: 'intelligent',
  SOVEREIGN: 'sovereign',
} as const
export type Mode = (typeof Mode)[keyof typeof Mode]

/** A mode name as written in YAML or on the command line; case does not matter. */
export const ModeName = z.preprocess(
  (v) => (typeof v === 'string' ? v.toLowerCase() : v),
  z.enum([Mode.SIMPLE, Mode.INTELLIGENT, Mode.SOVEREIGN]),
)
