import type { RedisClient } from '../queue/connection.js'

/**
 * A house agent's daily token budget, shared by every worker of the house through Redis
 * (`<prefix>:tokens:<house>:<UTC day>`, kept two days).
 *
 * @example
 *   const budget = new TokenBudget(redis, '{uw}', 'bezalel', 2_000_000)
 *   const granted = await budget.reserve(200_000) // 0: over budget
 *   await budget.settle(granted, usage.totalTokens)
 */
export class TokenBudget {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly house: string,
    readonly daily: number,
    private readonly now: () => number = Date.now,
  ) {}

  private key(): string {
    return `${this.prefix}:tokens:${this.house}:${new Date(this.now()).toISOString().slice(0, 10)}`
  }

  /** Tokens used today. */
  async used(): Promise<number> {
    return Number((await this.redis.get(this.key())) ?? 0)
  }

  /** Tokens left today (0 or less: over budget). */
  async left(): Promise<number> {
    return this.daily - (await this.used())
  }

  /**
   * Reserves up to `want` tokens of what is left today (atomically: jobs starting at once never
   * get more than is left between them). Resolves to what was granted (0: nothing left).
   */
  async reserve(want: number): Promise<number> {
    const k = this.key()
    const after = Number(await this.redis.incrby(k, want))
    await this.redis.expire(k, 2 * 86_400)
    const before = after - want
    if (before >= this.daily) {
      await this.redis.decrby(k, want)
      return 0
    }
    const over = Math.max(0, after - this.daily)
    if (over > 0) await this.redis.decrby(k, over)
    return want - over
  }

  /** Settles a reservation: counts `used` instead of the `reserved` tokens. */
  async settle(reserved: number, used: number): Promise<void> {
    const delta = Math.round(used) - reserved
    if (delta !== 0) await this.redis.incrby(this.key(), delta)
  }

  async spend(tokens: number): Promise<void> {
    if (tokens <= 0) return
    const k = this.key()
    await this.redis
      .multi()
      .incrby(k, Math.round(tokens))
      .expire(k, 2 * 86_400)
      .exec()
  }
}
