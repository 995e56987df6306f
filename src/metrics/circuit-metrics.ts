import { Gauge, type Registry } from 'prom-client'

/** A circuit breaker's state (harness/attempts/circuit-breaker). */
export type CircuitStateName = 'closed' | 'half-open' | 'open'
const STATES: readonly CircuitStateName[] = ['closed', 'half-open', 'open']

/** Where the circuit gauge reads from: every house × tool the houses may run, and their stored states. */
export interface CircuitSource {
  circuits: readonly { house: string; tool: string }[]
  /** The state of each of `circuits`, in order. */
  states(): Promise<CircuitStateName[]>
}

/**
 * Registers `uw_circuit_state{house,tool,state}`: per house × tool, 1 for the circuit's current
 * state and 0 for the other two (Prometheus' convention for an enum: one series per state), read
 * from the shared breaker in Redis at scrape time.
 *
 * @example
 *   registerCircuitMetrics(registry, { circuits, states: () => circuitStates(redis, prefix, keys) })
 */
export function registerCircuitMetrics(registry: Registry, source: CircuitSource): void {
  new Gauge({
    name: 'uw_circuit_state',
    help: 'Circuit breaker state per house and tool: 1 for the current state (closed, half-open, open), 0 for the others.',
    labelNames: ['house', 'tool', 'state'] as const,
    registers: [registry],
    async collect() {
      const states = await source.states().catch(() => undefined)
      this.reset()
      if (!states) return
      source.circuits.forEach((c, i) => {
        for (const state of STATES) this.set({ ...c, state }, states[i] === state ? 1 : 0)
      })
    },
  })
}
