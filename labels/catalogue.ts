import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'
import { packageRoot } from '../src/package-root.js'

/** One managed label. `previously` holds old names that a sync renames to `name`. */
export const CatalogueLabel = z
  .object({
    name: z.string().min(1).max(50),
    color: z
      .string()
      .regex(/^#?[0-9a-fA-F]{6}$/, 'six hex digits')
      .transform((c) => c.replace('#', '').toLowerCase()),
    description: z.string().max(200).default(''),
    exclusive: z.boolean().default(false),
    previously: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine((l) => !l.exclusive || scopeOf(l.name) !== undefined, {
    message: 'an exclusive label needs a scope, like "type/bug"',
    path: ['exclusive'],
  })
export type CatalogueLabel = z.infer<typeof CatalogueLabel>

/** The catalogue file: names are unique, and no old name is reused as a current or other old name. */
export const Catalogue = z
  .object({ version: z.literal(1), labels: z.array(CatalogueLabel).min(1) })
  .strict()
  .superRefine((cat, ctx) => {
    const current = new Set<string>()
    const old = new Set<string>()
    cat.labels.forEach((l, i) => {
      const key = l.name.toLowerCase()
      if (current.has(key))
        ctx.addIssue({ code: 'custom', message: `duplicate name "${l.name}"`, path: ['labels', i, 'name'] })
      current.add(key)
    })
    cat.labels.forEach((l, i) =>
      l.previously.forEach((p, j) => {
        const key = p.toLowerCase()
        if (current.has(key) || old.has(key))
          ctx.addIssue({
            code: 'custom',
            message: `old name "${p}" is already a label name or another label's old name`,
            path: ['labels', i, 'previously', j],
          })
        old.add(key)
      }),
    )
    // Gitea treats every label of a scope as exclusive when any is; mixing is a mistake.
    const scopes = new Map<string, boolean>()
    cat.labels.forEach((l, i) => {
      const scope = scopeOf(l.name)
      if (scope === undefined) return
      const seen = scopes.get(scope)
      if (seen !== undefined && seen !== l.exclusive)
        ctx.addIssue({
          code: 'custom',
          message: `scope "${scope}" mixes exclusive and non-exclusive labels`,
          path: ['labels', i, 'exclusive'],
        })
      scopes.set(scope, l.exclusive)
    })
  })
export type Catalogue = z.infer<typeof Catalogue>

/**
 * The scope of a scoped label, as Gitea computes it (everything before the last '/').
 *
 * @example
 * scopeOf('type/bug') // 'type'
 * scopeOf('bug') // undefined
 */
export function scopeOf(name: string): string | undefined {
  const i = name.lastIndexOf('/')
  return i > 0 && i < name.length - 1 ? name.slice(0, i) : undefined
}

/** The catalogue shipped in the package. */
export function cataloguePath(): string {
  return join(packageRoot(), 'labels', 'catalogue.yaml')
}

/**
 * Parses catalogue YAML text; throws an Error listing every problem with its path.
 *
 * @example
 * parseCatalogue('version: 1\nlabels:\n  - { name: type/bug, color: d73a4a, exclusive: true }\n')
 */
export function parseCatalogue(text: string, source = 'catalogue'): Catalogue {
  const result = Catalogue.safeParse(parse(text))
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new Error(`invalid label ${source}:\n${problems.join('\n')}`)
  }
  return result.data
}

/**
 * Loads and validates the label catalogue (default: the package's `labels/catalogue.yaml`).
 *
 * @example
 * const names = loadCatalogue().labels.map((l) => l.name)
 */
export function loadCatalogue(path = cataloguePath()): Catalogue {
  return parseCatalogue(readFileSync(path, 'utf8'), path)
}
