/** Queue of reports: the reporter edits ack comments from it. */
export const REPORTS_QUEUE = 'reports'

/**
 * The queue of one house.
 *
 * @example
 *   houseQueueName('bezalel') // 'house-bezalel'
 */
export function houseQueueName(house: string): string {
  return `house-${house}`
}
