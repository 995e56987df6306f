import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { startGiteaDouble } from '../../src/gitea/double/start-gitea-double.js'
import { startSandbox } from '../../src/sandbox/start-sandbox.js'
import { listen } from '../../src/server/listen.js'

describe('a port already in use', () => {
  it('makes listen reject with one clear line instead of an unhandled error event', async () => {
    const first = await listen(new Hono(), { host: '127.0.0.1', port: 0 })
    try {
      await expect(listen(new Hono(), { host: '127.0.0.1', port: first.port })).rejects.toThrow(
        `cannot listen on 127.0.0.1:${first.port}: the port is in use (set PORT to another one, or stop the process using it)`,
      )
    } finally {
      await first.close()
    }
  })

  it('makes the Gitea double (the sandbox) reject the same way', async () => {
    const first = await startGiteaDouble()
    const port = Number(new URL(first.url).port)
    try {
      await expect(startGiteaDouble({ port })).rejects.toThrow(
        `the Gitea double cannot listen on 127.0.0.1:${port}: the port is in use`,
      )
    } finally {
      await first.stop()
    }
  })
})

describe('the sandbox', () => {
  it('falls back to a free port when PORT+1 is taken (it used to crash on the unhandled error)', async () => {
    const busy = await listen(new Hono(), { host: '127.0.0.1', port: 0 })
    const dataDir = mkdtempSync(join(tmpdir(), 'uw-sandbox-port-'))
    try {
      const sandbox = await startSandbox({
        dataDir,
        webhookUrl: 'http://127.0.0.1:9/webhooks/gitea',
        webhookSecret: 's',
        port: busy.port,
      })
      const port = Number(new URL(sandbox.gitea.url).port)
      expect(port).not.toBe(busy.port)
      expect((await fetch(`${sandbox.gitea.url}/api/v1/version`)).status).toBe(200)
      await sandbox.stop()
    } finally {
      await busy.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
