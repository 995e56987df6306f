import type { RedisClient } from '../queue/connection.js'

/**
 * A house agent's daily token budget, shared by every worker of the house through Redis
 * (`<prefix>:tokens:<house>:<UTC day>`, kept two days).
 *
 * @example
 *   const budget = new TokenBudget(redis, '{uw}', 'bezalel', 2_000_000)
 *   if ((await budget.left()) <= 0) fail('over budget')
 *   await budget.spend(usageDelta) // as the run reports usage
 */
export class TokenBudget {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly house: string,
    readonly daily: number,
    private readonly now: () => number = Date.now,
    /** Told each count that reached Redis (the metrics' `uw_agent_tokens_total`). */
    private readonly counted: (tokens: number) => void = () => undefined,
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

  /** Counts `tokens` into today's budget; resolves to what is left after them (0 or less: spent). */
  async spend(tokens: number): Promise<number> {
    if (tokens <= 0) return this.left()
    const k = this.key()
    const res = await this.redis
      .multi()
      .incrby(k, Math.round(tokens))
      .expire(k, 2 * 86_400)
      .exec()
    const err = res?.find(([e]) => e)?.[0]
    if (err) throw err
    this.counted(Math.round(tokens))
    return this.daily - Number(res?.[0]?.[1] ?? 0)
  }
}
