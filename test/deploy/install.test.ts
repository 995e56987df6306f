import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const INSTALL = resolve(import.meta.dirname, '../../deploy/install.sh')
const UNITS = ['uni-wizard.service', 'uni-wizard-web.service', 'uni-wizard-worker@.service']

function install(args: string[]) {
  const r = spawnSync('bash', [INSTALL, ...args], { encoding: 'utf8' })
  return { status: r.status, out: `${r.stdout}${r.stderr}` }
}

/** Every path under `dir`, with its mode, owner and modification time. */
function snapshot(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const s = statSync(p)
      out.push(`${p.slice(dir.length)} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.mtimeMs}`)
      if (s.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out.sort()
}

const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8)

let roots: string[] = []
function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'uw-install-'))
  roots.push(root)
  return root
}
afterEach(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true })
  roots = []
})

describe('deploy/install.sh', () => {
  it('--dry-run lists every step and changes nothing', () => {
    const root = tempRoot()
    const r = install(['--dry-run', '--root', root])
    expect(r.status).toBe(0)
    for (const step of [
      'would create system user uni-wizard',
      'would make directory /var/lib/uni-wizard (mode 0750, owner uni-wizard:uni-wizard)',
      'would make directory /etc/uni-wizard (mode 0750',
      ...UNITS.map((u) => `would install /etc/systemd/system/${u} (mode 0644)`),
      'would install /usr/local/libexec/uni-wizard/wait-ready.mjs (mode 0755)',
      'would install the template /etc/uni-wizard/uni-wizard.env (mode 0600, root:root)',
    ])
      expect(r.out).toContain(step)
    expect(readdirSync(root)).toEqual([])
  })

  it.each([
    [['--bin', 'uni-wizard'], '--bin must be an absolute path'],
    [['--bin', '/opt/x;rm -rf /'], '--bin must be an absolute path'],
    [['--root', '/no/such/dir'], '--root: no such directory'],
    [['--frobnicate'], 'unknown argument "--frobnicate"'],
  ])('refuses %j with the reason and does nothing', (args, reason) => {
    const root = tempRoot()
    const r = install(['--dry-run', '--root', root, ...args])
    expect(r.status).toBe(2)
    expect(r.out).toContain(reason)
    expect(readdirSync(root)).toEqual([])
  })

  // A real run needs root (useradd --root, chown) and useradd; CI and this machine run as root.
  const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v useradd']).status === 0
  it.skipIf(!canInstall)(
    canInstall
      ? 'installs into a root, idempotently'
      : 'installs into a root (skipped: needs root and useradd)',
    () => {
      const root = tempRoot()
      mkdirSync(join(root, 'etc'))
      writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\n')
      writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o600 })
      writeFileSync(join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o600 })

      const first = install(['--root', root, '--bin', '/opt/uw/bin/uni-wizard'])
      expect(first.status, first.out).toBe(0)
      const user = readFileSync(join(root, 'etc/passwd'), 'utf8')
        .split('\n')
        .find((l) => l.startsWith('uni-wizard:'))
      expect(user).toMatch(
        /^uni-wizard:x:\d+:\d+:uni-wizard bot:\/var\/lib\/uni-wizard:\/usr\/sbin\/nologin$/,
      )
      const [uid, gid] = (user ?? '').split(':').slice(2, 4).map(Number)

      const data = statSync(join(root, 'var/lib/uni-wizard'))
      expect([mode(join(root, 'var/lib/uni-wizard')), data.uid, data.gid]).toEqual(['750', uid, gid])
      const conf = statSync(join(root, 'etc/uni-wizard'))
      expect([mode(join(root, 'etc/uni-wizard')), conf.uid, conf.gid]).toEqual(['750', 0, gid])
      const env = join(root, 'etc/uni-wizard/uni-wizard.env')
      expect([mode(env), statSync(env).uid]).toEqual(['600', 0])
      expect(readFileSync(env, 'utf8')).toContain('GITEA_TOKEN=')
      expect(mode(join(root, 'usr/local/libexec/uni-wizard/wait-ready.mjs'))).toBe('755')
      for (const u of UNITS) {
        const text = readFileSync(join(root, 'etc/systemd/system', u), 'utf8')
        expect(text).toMatch(/^ExecStart=\/opt\/uw\/bin\/uni-wizard (serve|worker)/m)
        expect(text).not.toContain('/usr/local/bin/uni-wizard')
      }

      // Second run: every step "ok", nothing touched.
      const before = snapshot(root)
      const second = install(['--root', root, '--bin', '/opt/uw/bin/uni-wizard'])
      expect(second.status, second.out).toBe(0)
      expect(second.out).not.toMatch(/^(create|make|install|narrow)/m)
      expect(second.out).toContain('ok: user uni-wizard exists')
      expect(snapshot(root)).toEqual(before)

      // Drift is put back; the operator's secrets are kept.
      writeFileSync(env, 'GITEA_TOKEN=operator-secret\n')
      chmodSync(env, 0o644)
      chmodSync(join(root, 'var/lib/uni-wizard'), 0o777)
      writeFileSync(join(root, 'etc/systemd/system/uni-wizard.service'), '[Service]\nExecStart=/bin/false\n')
      const third = install(['--root', root, '--bin', '/opt/uw/bin/uni-wizard'])
      expect(third.status, third.out).toBe(0)
      expect(readFileSync(env, 'utf8')).toBe('GITEA_TOKEN=operator-secret\n')
      expect(mode(env)).toBe('600')
      expect(mode(join(root, 'var/lib/uni-wizard'))).toBe('750')
      expect(readFileSync(join(root, 'etc/systemd/system/uni-wizard.service'), 'utf8')).toContain(
        'ExecStart=/opt/uw/bin/uni-wizard serve',
      )
      expect(third.out).toContain('ok: /etc/systemd/system/uni-wizard-web.service')

      // The installed (rendered) units still pass systemd-analyze verify in that root.
      if (spawnSync('systemd-analyze', ['--version']).status !== 0) return
      const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) =>
        existsSync(join(d, 'sysinit.target')),
      )
      if (!hostUnits) return
      mkdirSync(join(root, 'usr/lib/systemd/system'), { recursive: true })
      for (const f of readdirSync(hostUnits))
        if (f.endsWith('.target')) copyFileSync(join(hostUnits, f), join(root, 'usr/lib/systemd/system', f))
      mkdirSync(join(root, 'opt/uw/bin'), { recursive: true })
      writeFileSync(join(root, 'opt/uw/bin/uni-wizard'), '#!/bin/sh\n', { mode: 0o755 })
      const v = spawnSync(
        'systemd-analyze',
        [
          'verify',
          '--man=no',
          `--root=${root}`,
          'uni-wizard.service',
          'uni-wizard-web.service',
          'uni-wizard-worker@ezra.service',
        ],
        { encoding: 'utf8' },
      )
      expect(`${v.stdout}${v.stderr}`.trim()).toBe('')
      expect(v.status).toBe(0)
    },
  )
})
