#!/usr/bin/env node
// Makes sure the system programs the project needs are installed, from Debian's packages, before the
// bot, the tests or the benches start. What is needed depends on the npm script that runs it:
//   npm start           redis-server, git (the sandbox runs an embedded Redis and real checkouts)
//   npm test / bench    those, plus redis-sentinel (HA tests), prometheus + promtool and
//                       prometheus-alertmanager + amtool (rule and config checks, the alerts e2e), chromium (dashboard
//                       browser tests) and systemd-analyze (unit checks)
// `node scripts/ensure-system.mjs <program>...` checks the named programs instead.
// With REDIS_URL set (and not under test) the bot uses that server, so no local redis-server is needed.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Program on PATH → the Debian package that provides it. */
const PACKAGE_OF = {
  'redis-server': 'redis-server',
  'redis-sentinel': 'redis-sentinel',
  'redis-cli': 'redis-tools',
  git: 'git',
  prometheus: 'prometheus',
  promtool: 'prometheus',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  amtool: 'prometheus-alertmanager',
  chromium: 'chromium',
  'systemd-analyze': 'systemd',
}

const lifecycle = process.env.npm_lifecycle_event ?? ''
const underTest = lifecycle.includes('test') || lifecycle.includes('bench')

function wanted() {
  const named = process.argv.slice(2)
  if (named.length > 0) return named
  const base = ['git']
  if (!process.env.REDIS_URL || underTest) base.push('redis-server', 'redis-cli')
  if (!underTest) return base
  return [
    ...base,
    'redis-sentinel',
    'prometheus',
    'promtool',
    'prometheus-alertmanager',
    'amtool',
    'chromium',
    'systemd-analyze',
  ]
}

function find(program) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin']
  return dirs.some((dir) => dir && existsSync(join(dir, program)))
}

const unknown = wanted().filter((p) => !(p in PACKAGE_OF))
if (unknown.length > 0) {
  console.error(`ensure-system: no Debian package known for ${unknown.join(', ')}`)
  process.exit(2)
}
const missing = wanted().filter((p) => !find(p))
if (missing.length === 0) process.exit(0)

const packages = [...new Set(missing.map((p) => PACKAGE_OF[p]))]
const installCommand = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0

if (!isRoot || !hasApt) {
  console.error(
    `uni-wizard needs ${missing.join(', ')}, not found on PATH.\n` +
      `Install with:\n\n  sudo sh -c '${installCommand}'\n` +
      (missing.includes('redis-server') ? `\nor point REDIS_URL at a Redis server you already run.` : ''),
  )
  process.exit(1)
}

console.error(`ensure-system: ${missing.join(', ')} not found; installing Debian's ${packages.join(', ')}`)
try {
  // Debian's packages start their services on install (prometheus, alertmanager, redis); the
  // project runs its own instances on free ports, so keep the package scripts from starting any.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
    stdio: 'inherit',
    env,
  })
} catch (err) {
  console.error(
    `Installing ${packages.join(', ')} failed: ${err instanceof Error ? err.message : String(err)}`,
  )
  process.exit(1)
}
const still = missing.filter((p) => !find(p))
if (still.length > 0) {
  console.error(`apt-get finished but ${still.join(', ')} is still not on PATH.`)
  process.exit(1)
}
