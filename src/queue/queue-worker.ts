/**
 * The BullMQ pieces a queue consumer needs (the router, the reporter and the house workers), named
 * here so that queue/ and jobs/ stay the only rooms that import bullmq (a checked layout rule): a
 * BullMQ upgrade is then read in one place. See the production guide the consumers follow:
 * https://docs.bullmq.io/guide/going-to-production
 *
 * @example
 *   const worker = new QueueWorker(REPORTS_QUEUE, process, { connection, concurrency: 8 })
 *   worker.on('error', (err) => log.error({ err }, 'reports worker error'))
 */
export { DelayedError, UnrecoverableError, Worker as QueueWorker, type Job as QueueJob } from 'bullmq'
