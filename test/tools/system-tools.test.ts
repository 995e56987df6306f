import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DiskUsageArgs, diskUsage, parseDf } from '../../src/tools/system/disk-usage.js'
import {
  ProcessListArgs,
  parsePs,
  processList,
  redactCommandLine,
} from '../../src/tools/system/process-list.js'
import { ServiceControlArgs, serviceControl } from '../../src/tools/system/service-control.js'
import { ServiceStatusArgs, serviceStatus } from '../../src/tools/system/service-status.js'
import { parseMeminfo, systemInfo } from '../../src/tools/system/system-info.js'
import { tempDir, toolContext } from './tool-context.js'

describe('system tools', () => {
  it('system_info reads os and /proc/meminfo', async () => {
    const r = await systemInfo.run({}, toolContext([]))
    const d = r.data as { cpus: number; memory: { totalKb: number; availableKb: number }; loadavg: number[] }
    expect(d.cpus).toBeGreaterThan(0)
    expect(d.memory.totalKb).toBeGreaterThan(d.memory.availableKb)
    expect(d.loadavg).toHaveLength(3)
    expect(parseMeminfo('MemTotal:       16314788 kB\nMemAvailable:    9000000 kB\n')).toEqual({
      MemTotal: 16314788,
      MemAvailable: 9000000,
    })
  })

  it('process_list finds this test process and filters by command line', async () => {
    const r = await processList.run(ProcessListArgs.parse({ sortBy: 'pid', limit: 2000 }), toolContext([]))
    const rows = (r.data as { processes: { pid: number }[] }).processes
    expect(rows.some((p) => p.pid === process.pid)).toBe(true)
    const none = await processList.run(
      ProcessListArgs.parse({ filter: 'no-such-process-uw-xyz-' + 'q' }),
      toolContext([]),
    )
    // Only ps itself could match its own args; it is not running anymore by now.
    expect((none.data as { total: number }).total).toBeLessThanOrEqual(1)
    expect(parsePs('  42     1 root  1.5  0.2  1234  99 /usr/bin/thing --flag a b')).toEqual([
      {
        pid: 42,
        ppid: 1,
        user: 'root',
        cpu: 1.5,
        mem: 0.2,
        rssKb: 1234,
        elapsedSeconds: 99,
        program: '/usr/bin/thing',
        args: '/usr/bin/thing --flag a b',
      },
    ])
  })

  it('disk_usage parses df -P -k for a workspace path, or the workspace roots', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      await mkdir(join(dir, 'sub'))
      const ctx = toolContext([dir])
      for (const args of [{ path: 'sub' }, {}]) {
        const r = await diskUsage.run(DiskUsageArgs.parse(args), ctx)
        const fs = (r.data as { filesystems: { mountedOn: string; sizeKb: number }[] }).filesystems
        expect(fs).toHaveLength(1)
        expect(fs[0]?.sizeKb).toBeGreaterThan(0)
      }
      // Two roots on one filesystem: one row.
      await mkdir(join(dir, 'other'))
      const two = await diskUsage.run(DiskUsageArgs.parse({}), toolContext([dir, join(dir, 'other')]))
      expect((two.data as { filesystems: unknown[] }).filesystems).toHaveLength(1)
    } finally {
      await cleanup()
    }
    expect(
      parseDf(
        'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 40 60 40% /mnt/my disk\n',
      ),
    ).toEqual([
      {
        filesystem: '/dev/sda1',
        sizeKb: 100,
        usedKb: 40,
        availableKb: 60,
        usePercent: 40,
        mountedOn: '/mnt/my disk',
      },
    ])
    expect(() => DiskUsageArgs.parse({ path: '--output=source' })).toThrow()
  })

  // Issue 10: disk_usage took any path, so it told whether /root/.ssh or /home/x existed.
  it('disk_usage refuses a path outside the workspace, existing or not, without running df', async () => {
    const { dir, cleanup } = await tempDir()
    try {
      const ctx = toolContext([dir])
      for (const path of ['/', '/etc', '/no-such-dir-uw-xyz', '../..', `${dir}/../`]) {
        await expect(diskUsage.run(DiskUsageArgs.parse({ path }), ctx)).rejects.toThrow(
          /outside the workspace roots/,
        )
      }
      await expect(diskUsage.run(DiskUsageArgs.parse({ path: 'missing' }), ctx)).rejects.toThrow(
        /no such file or directory/,
      )
    } finally {
      await cleanup()
    }
  })

  it.each([
    ['--password=x', 'db --password=hunter2 -v', 'db --password=[redacted] -v'],
    ['--token x', 'agent --token abc123 --port 80', 'agent --token [redacted] --port 80'],
    ['--api-key=', 'cli --api-key=k-1 run', 'cli --api-key=[redacted] run'],
    ['--client-secret x', 'oauth --client-secret s3 go', 'oauth --client-secret [redacted] go'],
    ['mysql -pSECRET', 'mysql -uroot -phunter2 --host db', 'mysql -uroot -p[redacted] --host db'],
    ['-p with a port is kept', 'server -p 8080 -p9090', 'server -p 8080 -p9090'],
    [
      'env-style TOKEN=x',
      'env GITEA_TOKEN=abc PGPASSWORD=pw run',
      'env GITEA_TOKEN=[redacted] PGPASSWORD=[redacted] run',
    ],
    [
      'URL userinfo',
      'git clone https://bob:pa55@git.example/x.git',
      'git clone https://bob:[redacted]@git.example/x.git',
    ],
    [
      'ordinary arguments are kept',
      'node server.js --port 3000 --verbose',
      'node server.js --port 3000 --verbose',
    ],
    ['the program is never touched', 'token-helper --list', 'token-helper --list'],
    // Issue 10 (F6): options that carry a secret only for their program.
    ['curl -u user:pass', 'curl -u admin:S3cretPass https://x', 'curl -u admin:[redacted] https://x'],
    [
      'curl --user user:pass',
      '/usr/bin/curl --user admin:S3cret https://x',
      '/usr/bin/curl --user admin:[redacted] https://x',
    ],
    ['curl -uuser:pass', 'curl -uadmin:S3cret https://x', 'curl -uadmin:[redacted] https://x'],
    ['curl -u user alone is kept', 'curl -u admin https://x', 'curl -u admin https://x'],
    ['redis-cli -a x', 'redis-cli -a S3cretRedis ping', 'redis-cli -a [redacted] ping'],
    ['sshpass -p x', 'sshpass -p hunter2pass ssh host', 'sshpass -p [redacted] ssh host'],
    ['sudo sshpass -p x', 'sudo -E sshpass -p hunter2 ssh h', 'sudo -E sshpass -p [redacted] ssh h'],
    [
      'docker login -p x',
      'docker login -u bot -p S3cret reg.example',
      'docker login -u bot -p [redacted] reg.example',
    ],
    [
      'docker run -p port is kept',
      'docker run -p 8080:80 -u 1000:1000 nginx',
      'docker run -p 8080:80 -u 1000:1000 nginx',
    ],
    ['redis-server -p port is kept', 'redis-server -p 6379 -a yes', 'redis-server -p 6379 -a yes'],
    ['htpasswd -b file user x', 'htpasswd -bB users.db bob S3cret', 'htpasswd -bB users.db bob [redacted]'],
    ['htpasswd without -b is kept', 'htpasswd -c users.db bob', 'htpasswd -c users.db bob'],
  ])('process_list redacts %s', (_what, cmdline, shown) => {
    expect(redactCommandLine(cmdline)).toBe(shown)
  })

  it('process_list shows a real process with its secret argument redacted, and the filter cannot find it', async () => {
    const secret = `uw-planted-${process.pid}-hunter2`
    const child = spawn(
      process.execPath,
      ['-e', 'setTimeout(() => {}, 20000)', '--', `--password=${secret}`],
      {
        stdio: 'ignore',
      },
    )
    try {
      await new Promise((r) => setTimeout(r, 200))
      const r = await processList.run(ProcessListArgs.parse({ sortBy: 'pid', limit: 2000 }), toolContext([]))
      const row = (r.data as { processes: { pid: number; program: string; args: string }[] }).processes.find(
        (p) => p.pid === child.pid,
      )
      expect(row?.args).toContain('--password=[redacted]')
      expect(row?.program).toBe(process.execPath)
      expect(r.output).not.toContain(secret)
      expect(JSON.stringify(r.data)).not.toContain(secret)
      // Guessing through the filter finds nothing: it matches the redacted command line.
      const guess = await processList.run(
        ProcessListArgs.parse({ filter: `--password=${secret.slice(0, 12)}` }),
        toolContext([]),
      )
      expect(
        (guess.data as { processes: { pid: number }[] }).processes.some((p) => p.pid === child.pid),
      ).toBe(false)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('service_status says clearly that systemd is not available here', async () => {
    await expect(
      serviceStatus.run(ServiceStatusArgs.parse({ unit: 'nginx.service' }), toolContext([])),
    ).rejects.toThrow(/^systemd not available/)
    expect(await serviceStatus.targetDigest?.({ unit: 'nginx.service' }, toolContext([]))).toBeUndefined()
    expect(serviceStatus.target({ unit: 'nginx.service' }, toolContext([]))).toBe('service:nginx.service')
  })

  it('service_control refuses units outside the allowlist before anything runs', async () => {
    const ctx = toolContext([], { services: { controlAllowlist: ['nginx.service'] } })
    await expect(
      serviceControl.run(ServiceControlArgs.parse({ unit: 'sshd.service', action: 'stop' }), ctx),
    ).rejects.toThrow(/not in toolSettings\.services\.controlAllowlist/)
    await expect(
      serviceControl.run(ServiceControlArgs.parse({ unit: 'nginx.service', action: 'restart' }), ctx),
    ).rejects.toThrow(/^systemd not available/)
  })

  it('unit names and actions are validated', () => {
    for (const unit of ['-H evil', '--host=x', 'a b', 'x;y', '']) {
      expect(() => ServiceStatusArgs.parse({ unit })).toThrow()
    }
    expect(() => ServiceControlArgs.parse({ unit: 'a.service', action: 'mask' })).toThrow()
  })
})
