import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PACKAGE_NAME = 'uni-wizard'
let cached: string | undefined

/**
 * The directory holding uni-wizard's package.json. Data files that tsc does not copy
 * (`labels/*.yaml`, `models/*`) are resolved from here, so the same code works from the sources
 * (`labels/x.ts`) and from the build (`dist/labels/x.js`).
 *
 * @example
 * join(packageRoot(), 'labels', 'catalogue.yaml')
 */
export function packageRoot(): string {
  if (cached) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name
      if (name === PACKAGE_NAME) return (cached = dir)
    }
    const parent = dirname(dir)
    if (parent === dir)
      throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${import.meta.url}`)
    dir = parent
  }
}
