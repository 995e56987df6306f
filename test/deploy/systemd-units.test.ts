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
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DaemonConfig } from '../../src/config/daemon-config.js'

const SYSTEMD = resolve(import.meta.dirname, '../../deploy/systemd')
const UNITS = ['uni-wizard.service', 'uni-wizard-web.service', 'uni-wizard-worker@.service'] as const
/** What `verify` loads: templates need an instance. */
const LOADED: Record<(typeof UNITS)[number], string> = {
  'uni-wizard.service': 'uni-wizard.service',
  'uni-wizard-web.service': 'uni-wizard-web.service',
  'uni-wizard-worker@.service': 'uni-wizard-worker@bezalel.service',
}

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' })
const hasAnalyze = analyze.status === 0
const SKIP_WHY =
  'skipped: systemd-analyze is not installed (Debian package `systemd`: apt-get install systemd)'
// The host's own unit directory: verify follows each unit's default dependencies into it.
const hostUnitDir = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) =>
  existsSync(join(d, 'sysinit.target')),
)

/** `Key=value` lines of one unit file, every value of a repeated key kept in order. */
function settings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith('[')) continue
    const at = line.indexOf('=')
    const key = line.slice(0, at)
    out.set(key, [...(out.get(key) ?? []), line.slice(at + 1)])
  }
  return out
}

function unit(name: string): Map<string, string[]> {
  return settings(readFileSync(join(SYSTEMD, name), 'utf8'))
}

/** systemd's time span for the few forms the units use: `60s`, `2min`, `90`. */
function seconds(span: string): number {
  const m = /^(\d+)\s*(s|sec|min)?$/.exec(span.trim())
  if (!m) throw new Error(`unexpected time span ${span}`)
  return Number(m[1]) * (m[2] === 'min' ? 60 : 1)
}

/** A root file system for `systemd-analyze --root`: the host's targets, the units, stub programs. */
function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'uw-systemd-'))
  const lib = join(root, 'usr/lib/systemd/system')
  mkdirSync(lib, { recursive: true })
  for (const f of readdirSync(hostUnitDir!))
    if (f.endsWith('.target')) copyFileSync(join(hostUnitDir!, f), join(lib, f))
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true })
  for (const u of UNITS) copyFileSync(join(SYSTEMD, u), join(root, 'etc/systemd/system', u))
  for (const program of ['usr/local/bin/uni-wizard', 'usr/local/libexec/uni-wizard/wait-ready.mjs']) {
    mkdirSync(join(root, program, '..'), { recursive: true })
    writeFileSync(join(root, program), '#!/bin/sh\n')
    chmodSync(join(root, program), 0o755)
  }
  return root
}

function verify(root: string, name: string) {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, name], { encoding: 'utf8' })
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() }
}

/** The overall exposure `systemd-analyze security --offline=yes` gives one unit file. */
function exposure(file: string): { score: number; output: string } {
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', file], {
    encoding: 'utf8',
  })
  const output = `${r.stdout}${r.stderr}`
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?) /.exec(output)
  if (!m) throw new Error(`no exposure level in the output of systemd-analyze security:\n${output}`)
  return { score: Number(m[1]), output }
}

describe('systemd units: what the issue requires, read from the files', () => {
  const grace = DaemonConfig.parse({}).workers.shutdownGraceMs / 1000

  it.each(UNITS)('%s restarts on failure and stops after the shutdown grace, not before', (name) => {
    const s = unit(name)
    expect(s.get('Restart')).toEqual(['on-failure'])
    // SIGTERM to uni-wizard alone: its tools and embedded redis-server must outlive the grace.
    expect(s.get('KillMode')).toEqual(['mixed'])
    expect(seconds(s.get('TimeoutStopSec')?.[0] ?? '')).toBeGreaterThanOrEqual(grace + 15)
  })

  it.each(UNITS)(
    '%s keeps its secrets in the environment file and writes only its data directory',
    (name) => {
      const s = unit(name)
      expect(s.get('EnvironmentFile')![0]).toBe('/etc/uni-wizard/uni-wizard.env')
      expect(s.get('ProtectSystem')).toEqual(['strict'])
      expect(s.get('StateDirectory')).toEqual(['uni-wizard'])
      expect(s.get('StateDirectoryMode')).toEqual(['0750'])
      expect(s.get('Environment')).toContain('UW_DATA_DIR=/var/lib/uni-wizard')
      expect(s.get('User')).toEqual(['uni-wizard'])
      const required: [string, string][] = [
        ['NoNewPrivileges', 'yes'],
        ['PrivateTmp', 'yes'],
        ['ProtectHome', 'yes'],
        ['CapabilityBoundingSet', ''],
        ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'],
        ['LockPersonality', 'yes'],
        ['RestrictNamespaces', 'yes'],
        ['ProtectKernelTunables', 'yes'],
        ['ProtectKernelModules', 'yes'],
        ['ProtectKernelLogs', 'yes'],
        // V8's JIT and Node's WebAssembly HTTP parser need memory that becomes executable.
        ['MemoryDenyWriteExecute', 'no'],
      ]
      for (const [key, value] of required) expect(s.get(key), key).toEqual([value])
      expect(s.get('SystemCallFilter')![0]).toBe('@system-service')
      // A filtered call fails with EPERM (libuv and redis fall back) instead of killing the process.
      expect(s.get('SystemCallErrorNumber')).toEqual(['EPERM'])
    },
  )

  it('the three units share one hardening block; only the documented lines differ', () => {
    const [serve, web, worker] = [unit(UNITS[0]), unit(UNITS[1]), unit(UNITS[2])]
    const tail = (s: Map<string, string[]>) =>
      [...s].filter(
        ([k]) => !['ExecStart', 'ExecStartPost', 'Description', 'Conflicts', 'TimeoutStartSec'].includes(k),
      )
    const webOnly = tail(web).filter(([k]) => k !== 'ProcSubset')
    expect(webOnly).toEqual(tail(serve))
    expect(web.get('ProcSubset')).toEqual(['pid'])
    const workerFiles = worker.get('EnvironmentFile')
    expect(workerFiles).toEqual(['/etc/uni-wizard/uni-wizard.env', '-/etc/uni-wizard/worker-%i.env'])
    expect(tail(worker).filter(([k]) => k !== 'EnvironmentFile')).toEqual(
      tail(serve).filter(([k]) => k !== 'EnvironmentFile'),
    )
  })

  it('each unit runs the CLI command it is named for', () => {
    expect(unit('uni-wizard.service').get('ExecStart')).toEqual(['/usr/local/bin/uni-wizard serve'])
    expect(unit('uni-wizard-web.service').get('ExecStart')).toEqual([
      '/usr/local/bin/uni-wizard serve --no-workers',
    ])
    // %i, not %I: %I would unescape a house named a-b into a/b.
    expect(unit('uni-wizard-worker@.service').get('ExecStart')).toEqual([
      '/usr/local/bin/uni-wizard worker --house %i',
    ])
  })
})

describe.skipIf(!hasAnalyze || !hostUnitDir)(
  hasAnalyze ? 'systemd-analyze on the units' : `systemd-analyze on the units (${SKIP_WHY})`,
  () => {
    let root: string
    beforeAll(() => {
      root = makeRoot()
    })
    afterAll(() => rmSync(root, { recursive: true, force: true }))

    it.each(UNITS)('verify passes on %s with nothing to say', (name) => {
      const r = verify(root, LOADED[name])
      expect(r.output).toBe('')
      expect(r.status).toBe(0)
    })

    it('verify would catch a broken unit (the check above is not blind)', () => {
      const broken = join(root, 'etc/systemd/system/uni-wizard-broken.service')
      writeFileSync(
        broken,
        readFileSync(join(SYSTEMD, 'uni-wizard.service'), 'utf8')
          .replace('Restart=on-failure', 'Restartt=on-failure')
          .replace('ProtectSystem=strict', 'ProtectSystem=strickt'),
      )
      try {
        const r = verify(root, 'uni-wizard-broken.service')
        expect(r.output).toContain("Unknown key 'Restartt'")
        expect(r.output).toContain('strickt')
      } finally {
        rmSync(broken)
      }
    })

    it.each(UNITS)('security scores %s at 2.0 or lower ("OK")', (name) => {
      const { score, output } = exposure(join(SYSTEMD, name))
      expect(score, output).toBeLessThanOrEqual(2.0)
    })

    it('security scores an unhardened unit far above 2.0 (the parse reads the real score)', () => {
      const bare = join(root, 'bare.service')
      writeFileSync(bare, '[Service]\nExecStart=/usr/local/bin/uni-wizard serve\n')
      expect(exposure(bare).score).toBeGreaterThan(9)
    })
  },
)
