import { inspect } from 'node:util'

/** What a Secret shows wherever it is printed, logged or serialised. */
const SHOWN = '[hidden]'

/**
 * A secret value read from configuration (an agent's API key): it prints, logs, serialises and
 * inspects as `[hidden]`, so a config dump, a pino line or an error that quotes a policy cannot
 * show it. Only `reveal()` gives the value, at the one place that sends it (an HTTP header).
 *
 * @example
 *   const key = new Secret(process.env.TIMMY_TOKEN ?? '')
 *   JSON.stringify({ key }) // '{"key":"[hidden]"}'
 *   fetch(url, { headers: { authorization: `Bearer ${key.reveal()}` } })
 */
export class Secret {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
  }

  /** The value itself: only for the request that needs it, never for a log or a message. */
  reveal(): string {
    return this.#value
  }

  toString(): string {
    return SHOWN
  }

  toJSON(): string {
    return SHOWN
  }

  [inspect.custom](): string {
    return SHOWN
  }
}
