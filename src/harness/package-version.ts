import { readFileSync } from 'node:fs'

function readVersion(): string {
  // src/harness and dist/src/harness are two and three levels below the package root.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === 'uni-wizard' && pkg.version) return pkg.version
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0-unknown'
}

/** The uni-wizard version recorded in provenance. */
export const UNI_WIZARD_VERSION = readVersion()
