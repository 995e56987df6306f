/**
 * House routing labels (`house/<name>`). The catalogue lists the seed houses (`HOUSE_LABELS` in
 * names.ts); a configured house has the same scope, so these work for any house name.
 */
export const HOUSE_LABEL_PREFIX = 'house/'

/**
 * @example
 *   houseLabel('bezalel') // 'house/bezalel'
 */
export function houseLabel(house: string): string {
  return `${HOUSE_LABEL_PREFIX}${house}`
}

/**
 * The house named by a label, or undefined for any other label.
 *
 * @example
 *   houseFromLabel('house/ezra') // 'ezra'
 */
export function houseFromLabel(label: string): string | undefined {
  return label.startsWith(HOUSE_LABEL_PREFIX) && label.length > HOUSE_LABEL_PREFIX.length
    ? label.slice(HOUSE_LABEL_PREFIX.length).toLowerCase()
    : undefined
}

/**
 * Whether a label acts when it is put on an issue: a house label routes `/run` and, with
 * `commands.agents.labelTriggers`, starts the house's default task. Text the bot did not write
 * (alerts) may not set these.
 *
 * @example
 *   isTriggerLabel('house/ezra') // true
 *   isTriggerLabel('type/ops') // false
 */
export function isTriggerLabel(label: string): boolean {
  return label.toLowerCase().startsWith(HOUSE_LABEL_PREFIX)
}
