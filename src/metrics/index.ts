// Prometheus metrics of the bot loop: definitions in one place, registered on a Registry the process owns.
export { registerWorkersAlive, type WorkersAliveSource } from './workers-alive.js'
