/**
 * One stress signal with hysteresis: on when a value passes `bound`; off again only after values
 * have stayed at or under `bound × recoverRatio` for `recoverAfterMs`. Values between the two
 * bars keep the state, and restart the quiet time, so a value hovering around the bound does not
 * flap.
 *
 * @example
 *   const lag = new Hysteresis({ bound: 200, recoverRatio: 0.8, recoverAfterMs: 10_000 })
 *   lag.update(240, now) // on
 *   lag.update(190, now + 20_000) // still on: 190 > 160
 */
export class Hysteresis {
  /** Whether the signal is on. */
  on = false
  /** The latest value. */
  value = 0
  /** The value that last passed the bound (what a degraded job is told). */
  peak = 0
  private lastHigh = -Infinity

  constructor(readonly limits: { bound: number; recoverRatio: number; recoverAfterMs: number }) {}

  /** Takes a value observed at `now` (ms); resolves to whether the signal is on. */
  update(value: number, now: number): boolean {
    const { bound, recoverRatio, recoverAfterMs } = this.limits
    this.value = value
    if (value > bound) {
      this.on = true
      this.peak = value
    }
    if (value > bound * recoverRatio) this.lastHigh = now
    else if (this.on && now - this.lastHigh >= recoverAfterMs) this.on = false
    return this.on
  }
}
