/** The shape of calls whose arguments were not recorded (a task, a tool-level total). */
export const ANY_SHAPE = '*'

/** Longest shape kept: a call with more arguments than fit is recorded under its names' hash. */
const MAX_SHAPE_CHARS = 200

function valueClass(value: unknown): string {
  if (value === undefined || value === null || value === '') return 'empty'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number') return numberClass(value)
  if (Array.isArray(value))
    return value.length === 0 ? 'list:empty' : value.length <= 10 ? 'list:small' : 'list:large'
  if (typeof value === 'object') return 'obj'
  const s = String(value)
  if (/^-?\d+$/.test(s)) return numberClass(Number(s))
  if (/^(true|false)$/i.test(s)) return 'bool'
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return 'url'
  if (/^[0-9a-f]{7,64}$/i.test(s)) return 'str:hex'
  if (s.endsWith('/')) return 'path:dir'
  if (/^[^\s]*\.[A-Za-z0-9]{1,8}$/.test(s) && !/\s/.test(s)) return 'path:file'
  if (s.includes('/') && !/\s/.test(s)) return 'path'
  return s.length <= 32 ? 'str:short' : 'str:long'
}

function numberClass(n: number): string {
  if (!Number.isInteger(n)) return 'num'
  return Math.abs(n) < 100 ? 'int:small' : 'int:large'
}

/**
 * The shape of a call's arguments: each argument's name and a coarse class of its value
 * (`path:file`, `int:small`, `str:short`, `url`, ...), sorted by name. Never a value: the shape is
 * what the pattern store keys outcomes by, and it is shown in `/predict`.
 *
 * @example
 *   argShape({ path: 'src/a.ts', limit: '5' }) // 'limit=int:small,path=path:file'
 *   argShape({}) // '-'
 */
export function argShape(args: unknown): string {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return '-'
  const names = Object.keys(args).sort()
  if (names.length === 0) return '-'
  const shape = names
    .map(
      (n) => `${n.replace(/[^\w.-]/g, '_').slice(0, 40)}=${valueClass((args as Record<string, unknown>)[n])}`,
    )
    .join(',')
  return shape.length <= MAX_SHAPE_CHARS ? shape : `${shape.slice(0, MAX_SHAPE_CHARS)}…`
}
