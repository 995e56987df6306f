import { z } from 'zod'
import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type ToolSpec } from '../tool.js'
import { UnitName, systemctl, unitDigest, unitDigestOrUndefined, unitStatus } from './systemd.js'

export const ServiceControlArgs = z
  .object({ unit: UnitName, action: z.enum(['start', 'stop', 'restart', 'reload']) })
  .strict()

/** The active state each action should leave the unit in. */
const EXPECTED: Record<z.infer<typeof ServiceControlArgs>['action'], string> = {
  start: 'active',
  restart: 'active',
  reload: 'active',
  stop: 'inactive',
}

/**
 * `service_control`: start, stop, restart or reload a systemd unit listed in
 * `toolSettings.services.controlAllowlist`. Verified by the unit's state afterwards.
 *
 * @example
 *   await serviceControl.run({ unit: 'nginx.service', action: 'reload' }, ctx)
 */
export const serviceControl: ToolSpec<typeof ServiceControlArgs> = {
  name: 'service_control',
  category: 'system',
  description:
    'Start, stop, restart or reload an allowlisted systemd unit; verified by its state afterwards.',
  args: ServiceControlArgs,
  access: 'write',
  timeoutMs: 60_000,
  target: (args) => `service:${args.unit}`,
  targetDigest: (args, ctx) => unitDigestOrUndefined(args.unit, ctx.signal),
  async run(args, ctx) {
    const allow = toolsConfigOf(ctx).services.controlAllowlist
    if (!allow.includes(args.unit)) {
      throw new ToolError(
        `unit ${args.unit} is not in toolSettings.services.controlAllowlist (allowed: ${allow.join(', ') || 'none'})`,
      )
    }
    await systemctl(args.action, args.unit, ctx.signal)
    const s = await unitStatus(args.unit, ctx.signal)
    return {
      output: `${args.action} ${args.unit}: now ${s.activeState} (${s.subState})`,
      data: s,
      targetDigest: unitDigest(s),
    }
  },
  async verify(args, _result, ctx) {
    const s = await unitStatus(args.unit, ctx.signal)
    if (s.activeState !== EXPECTED[args.action]) return undefined
    return {
      kind: 'systemctl-show',
      summary: `${args.unit} is ${s.activeState} after ${args.action}`,
      detail: { ...s, action: args.action },
    }
  },
}
