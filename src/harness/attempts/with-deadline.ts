/** Why an attempt was stopped from outside: its deadline passed, or the caller aborted. */
export class AttemptAbort extends Error {
  constructor(readonly kind: 'timeout' | 'cancelled') {
    super(kind)
  }
}

/**
 * Runs `fn` with a signal that aborts after `timeoutMs` or when the caller's signal aborts, and
 * settles as soon as either happens even if `fn` ignores the signal. A plain timer (not
 * AbortSignal.timeout) so it is cleared the moment the attempt ends. Rejects with an
 * `AttemptAbort` saying which came first.
 *
 * @example
 *   const result = await withDeadline(5_000, callerSignal, (signal) => spec.run(args, { ...ctx, signal }))
 */
export async function withDeadline<T>(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  let rejectAbort: (e: AttemptAbort) => void = () => undefined
  const aborted = new Promise<never>((_, reject) => {
    rejectAbort = reject
  })
  const onTimeout = () => {
    const e = new AttemptAbort('timeout')
    controller.abort(e)
    rejectAbort(e)
  }
  const onCaller = () => {
    const e = new AttemptAbort('cancelled')
    controller.abort(e)
    rejectAbort(e)
  }
  const timer = setTimeout(onTimeout, timeoutMs)
  callerSignal?.addEventListener('abort', onCaller, { once: true })
  try {
    return await Promise.race([fn(controller.signal), aborted])
  } finally {
    clearTimeout(timer)
    callerSignal?.removeEventListener('abort', onCaller)
  }
}
