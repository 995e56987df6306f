/**
 * Waits for `promise` at most `ms` milliseconds. Resolves true when it settled in time (fulfilled or
 * rejected: the caller only needs to know whether waiting is over), false when the time ran out; the
 * promise itself is left to run. Shutdown paths bound every wait with it: a BullMQ `close()` or a
 * Redis command waits forever for a Redis that has gone.
 *
 * @example
 *   if (!(await settleWithin(worker.close(), 2_000))) log.warn('worker did not close in time')
 */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms))
  })
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ])
  } finally {
    clearTimeout(timer)
  }
}
