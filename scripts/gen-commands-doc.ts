/**
 * Writes docs/commands.md from the command specs. `--check` exits 1 when the committed file is stale.
 *
 *   npx tsx scripts/gen-commands-doc.ts          # regenerate
 *   npx tsx scripts/gen-commands-doc.ts --check  # verify (CI)
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { commands } from '../commands/index.js'
import { renderCommandsDoc } from '../src/commands-core/help.js'

const target = fileURLToPath(new URL('../docs/commands.md', import.meta.url))
const wanted = renderCommandsDoc(commands)

if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(target, 'utf8')
  } catch {
    // Missing counts as stale.
  }
  if (current !== wanted) {
    console.error('docs/commands.md is stale: run `npx tsx scripts/gen-commands-doc.ts`')
    process.exit(1)
  }
  console.log('docs/commands.md is up to date')
} else {
  writeFileSync(target, wanted)
  console.log(`wrote ${target}`)
}
