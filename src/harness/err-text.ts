/**
 * The message of anything thrown, for notes, logs and failure reasons.
 *
 * @example
 *   errText(new Error('EIO')) // 'EIO'
 */
export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
