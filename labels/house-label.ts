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
