import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const run = promisify(execFile)

/**
 * The layout rules (.dependency-cruiser.cjs) run on the project in `npm test`; here each rule is
 * shown to break on a small tree that violates it, naming the rule, so a rule that silently
 * matches nothing (a wrong path pattern) fails this test instead of passing forever.
 */
describe('layout rules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uw-layout-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const files: Record<string, string> = {
    'src/queue/connection.ts': "import { Redis } from 'ioredis'\nexport const make = () => new Redis()\n",
    'src/router/router.ts': "import { make } from '../queue/connection.js'\nexport const route = make\n",
    // A handler reaching ioredis through the router.
    'handlers/reaches.ts': "import { route } from '../src/router/router.js'\nexport const h = route\n",
    // A command importing bullmq itself.
    'commands/direct.ts': "import { Queue } from 'bullmq'\nexport const c = Queue\n",
    // A room other than queue/ and jobs/ importing ioredis (a type import counts).
    'src/harness/store.ts': "import type { Redis } from 'ioredis'\nexport type R = Redis\n",
    // A tool importing the router.
    'src/tools/tool.ts': "import { route } from '../router/router.js'\nexport const t = route\n",
    // Checkouts importing the workers.
    'src/checkouts/mirror.ts': "import { route } from '../router/router.js'\nexport const m = route\n",
    // An agent backend importing the router.
    'src/agents/backend.ts': "import { route } from '../router/router.js'\nexport const b = route\n",
    // The dashboard importing a tool.
    'src/dashboard/page.ts': "import { t } from '../tools/tool.js'\nexport const p = t\n",
    // A cycle.
    'src/a/one.ts': "import { two } from './two.js'\nexport const one = () => two\n",
    'src/a/two.ts': "import { one } from './one.js'\nexport const two = () => one\n",
  }

  it('each rule breaks on a tree that violates it, and the message names the rule', async () => {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true })
      writeFileSync(join(dir, file), text)
    }
    cpSync(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'))
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
    )
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
    const bin = join(root, 'node_modules', '.bin', 'depcruise')
    const args = [
      'src',
      'handlers',
      'commands',
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'err',
    ]
    const failed = await run(bin, args, { cwd: dir }).then(
      () => undefined,
      (err: { code: number; stdout: string }) => err,
    )
    expect(failed?.code).toBeGreaterThan(0)
    const out = failed?.stdout ?? ''
    expect(out).toMatch(/error no-cycles: src\/a\/(one|two)\.ts/)
    expect(out).toMatch(/error content-never-reaches-infrastructure: handlers\/reaches\.ts/)
    expect(out).toMatch(/error content-sees-narrow-interfaces: commands\/direct\.ts/)
    expect(out).toMatch(/error only-queue-and-jobs-import-bullmq-ioredis: src\/harness\/store\.ts/)
    expect(out).toMatch(/error tools-stay-out-of-the-loop: src\/tools\/tool\.ts → src\/router\/router\.ts/)
    expect(out).toMatch(
      /error checkouts-stay-out-of-the-loop: src\/checkouts\/mirror\.ts → src\/router\/router\.ts/,
    )
    expect(out).toMatch(
      /error agents-stay-out-of-the-loop: src\/agents\/backend\.ts → src\/router\/router\.ts/,
    )
    expect(out).toMatch(/error dashboard-never-runs-tools: src\/dashboard\/page\.ts → src\/tools\/tool\.ts/)
    // queue/ itself may import ioredis.
    expect(out).not.toMatch(/only-queue-and-jobs-import-bullmq-ioredis: src\/queue\//)
  })
})
