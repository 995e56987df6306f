#!/usr/bin/env node
// Makes sure a real `redis-server` binary is available before the bot or the tests start.
// With REDIS_URL set (and not under test) the bot uses that server, so nothing is needed locally.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

const lifecycle = process.env.npm_lifecycle_event ?? ''
if (process.env.REDIS_URL && !lifecycle.includes('test')) process.exit(0)

function findRedisServer() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin', '/usr/local/bin']
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server')
    if (dir && existsSync(candidate)) return candidate
  }
  return undefined
}

if (findRedisServer()) process.exit(0)

const installCommand = 'apt-get update && apt-get install -y redis-server'
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0

if (!isRoot || !hasApt) {
  console.error(
    `uni-wizard needs redis-server, which is not on PATH.\n` +
      `Install it with:\n\n  sudo sh -c '${installCommand}'\n\n` +
      `or point REDIS_URL at a Redis server you already run.`,
  )
  process.exit(1)
}

console.error(`redis-server not found; installing Debian's redis-server package (${installCommand})`)
try {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], {
    stdio: 'inherit',
    env,
  })
} catch (err) {
  console.error(`Installing redis-server failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}
if (!findRedisServer()) {
  console.error('apt-get finished but redis-server is still not on PATH.')
  process.exit(1)
}
