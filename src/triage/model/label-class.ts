import { typeClass, typeLabelFor } from '../../../labels/names.js'

/**
 * The classifier's class for a label: type labels and their aliases map to the short type name
 * (`type/bug`, `Bug`, `kind/bug` -> `bug`; `enhancement` -> `feature`); other labels are lowercased.
 *
 * @example
 * labelClass('type/feature') // 'feature'
 */
export function labelClass(label: string): string {
  const type = typeLabelFor(label)
  return type ? typeClass(type) : label.trim().toLowerCase()
}
