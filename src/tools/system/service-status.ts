import { z } from 'zod'
import type { ToolSpec } from '../tool.js'
import { UnitName, unitDigest, unitDigestOrUndefined, unitStatus, type UnitStatus } from './systemd.js'

export const ServiceStatusArgs = z.object({ unit: UnitName }).strict()

/**
 * `service_status`: load, active and sub state and main PID of a systemd unit. Fails with
 * "systemd not available" where there is no systemd.
 *
 * @example
 *   await serviceStatus.run({ unit: 'nginx.service' }, ctx) // data.activeState === 'active'
 */
export const serviceStatus: ToolSpec<typeof ServiceStatusArgs> = {
  name: 'service_status',
  category: 'system',
  description: 'State of a systemd unit (systemctl show): load, active, sub state, main PID.',
  args: ServiceStatusArgs,
  access: 'read',
  timeoutMs: 10_000,
  target: (args) => `service:${args.unit}`,
  targetDigest: (args, ctx) => unitDigestOrUndefined(args.unit, ctx.signal),
  async run(args, ctx) {
    const s = await unitStatus(args.unit, ctx.signal)
    return {
      output: `${s.unit}: ${s.activeState} (${s.subState}), load ${s.loadState}, main pid ${s.mainPid}`,
      data: s,
      targetDigest: unitDigest(s),
    }
  },
  async verify(_args, result) {
    const s = result.data as UnitStatus
    return { kind: 'systemctl-show', summary: `${s.unit} is ${s.activeState}`, detail: { ...s } }
  },
}
