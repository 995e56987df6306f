import { describe, expect, it } from 'vitest'
import { DiskUsageArgs, diskUsage, parseDf } from '../../src/tools/system/disk-usage.js'
import { ProcessListArgs, parsePs, processList } from '../../src/tools/system/process-list.js'
import { ServiceControlArgs, serviceControl } from '../../src/tools/system/service-control.js'
import { ServiceStatusArgs, serviceStatus } from '../../src/tools/system/service-status.js'
import { parseMeminfo, systemInfo } from '../../src/tools/system/system-info.js'
import { toolContext } from './tool-context.js'

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
        args: '/usr/bin/thing --flag a b',
      },
    ])
  })

  it('disk_usage parses df -P -k for a path', async () => {
    const r = await diskUsage.run(DiskUsageArgs.parse({ path: '/' }), toolContext([]))
    const fs = (r.data as { filesystems: { mountedOn: string; sizeKb: number }[] }).filesystems
    expect(fs).toHaveLength(1)
    expect(fs[0]?.sizeKb).toBeGreaterThan(0)
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
