import type { BaseAdapter } from '@bull-board/api/baseAdapter'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { Queue } from 'bullmq'
import { DEFAULT_PREFIX, type RedisClient } from '../queue/connection.js'

/** The bot's queues as bull-board sees them: read-only for viewers, full for admins. */
export interface QueueBoardSource {
  /** One bull-board adapter per queue; `readOnly` hides and refuses every change. */
  adapters(readOnly: boolean): BaseAdapter[]
}

/**
 * BullMQ queues for the dashboard's queues page (bull-board): one `Queue` per name over
 * `connection` (never blocked: bull-board only reads, and admins' changes are single commands),
 * shared by the read-only and the full board.
 *
 * @example
 *   const board = new BoardQueues({ connection, prefix: '{uw}', queues: ['events', 'reports', 'house-ezra'] })
 *   createBullBoard({ queues: board.adapters(true), serverAdapter })
 */
export class BoardQueues implements QueueBoardSource {
  private readonly queues: Queue[]

  constructor(opts: { connection: RedisClient; prefix?: string; queues: readonly string[] }) {
    const prefix = opts.prefix ?? DEFAULT_PREFIX
    this.queues = opts.queues.map((name) => new Queue(name, { connection: opts.connection, prefix }))
    // Errors reach the board's requests; a queue's own 'error' events must not be unhandled.
    for (const q of this.queues) q.on('error', () => undefined)
  }

  adapters(readOnly: boolean): BaseAdapter[] {
    return this.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: readOnly, allowRetries: !readOnly }))
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()))
  }
}
