import { access, stat } from 'node:fs/promises'
import { z } from 'zod'
import { sha256Hex } from '../digest.js'
import { exec, tail } from '../exec.js'
import { ToolError } from '../tool.js'

/** A systemd unit name: no leading "-", only the characters systemd allows. */
export const UnitName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9:_.@\\-]+$/, 'not a valid unit name')
  .refine((u) => !u.startsWith('-'), 'must not start with "-"')

const SYSTEMCTL_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LC_ALL: 'C',
  SYSTEMD_PAGER: '',
  SYSTEMD_COLORS: '0',
}

/**
 * Throws "systemd not available" unless systemctl exists and this machine was booted with systemd
 * (the sd_booted() test: /run/systemd/system is a directory). Containers without systemd as PID 1
 * get this clear reason instead of systemctl's "Failed to connect to bus".
 */
export async function assertSystemd(): Promise<void> {
  const booted = await stat('/run/systemd/system').then(
    (s) => s.isDirectory(),
    () => false,
  )
  if (!booted)
    throw new ToolError(
      'systemd not available: this host was not booted with systemd (PID 1 is not systemd)',
      false,
      { fault: 'dependency' },
    )
  const found = await Promise.any(
    (process.env.PATH ?? '/usr/bin:/bin').split(':').map((dir) => access(`${dir}/systemctl`)),
  ).then(
    () => true,
    () => false,
  )
  if (!found)
    throw new ToolError('systemd not available: systemctl is not installed', false, { fault: 'dependency' })
}

export interface UnitStatus {
  unit: string
  loadState: string
  activeState: string
  subState: string
  unitFileState: string
  mainPid: number
}

// systemd itself in trouble. Only phrases with spaces: a unit name (UnitName) has none, so stderr
// quoting it ("Unit bus.service not found") cannot pass for one.
const SYSTEMD_TROUBLE = /timed out|failed to connect to bus|connection reset/i
// The bot lacks the privilege: every call would fail the same way.
const SYSTEMD_DENIED = /access denied|interactive authentication required/i

/** `systemctl show` for one unit, parsed. */
export async function unitStatus(unit: string, signal: AbortSignal): Promise<UnitStatus> {
  await assertSystemd()
  const r = await exec(
    'systemctl',
    ['show', '--no-pager', '--property=LoadState,ActiveState,SubState,UnitFileState,MainPID', '--', unit],
    { signal, env: SYSTEMCTL_ENV },
  )
  if (r.code !== 0)
    throw new ToolError(`systemctl show ${unit} failed: ${tail(r.stderr)}`, SYSTEMD_TROUBLE.test(r.stderr))
  const props: Record<string, string> = {}
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) props[line.slice(0, i)] = line.slice(i + 1)
  }
  return {
    unit,
    loadState: props.LoadState ?? 'unknown',
    activeState: props.ActiveState ?? 'unknown',
    subState: props.SubState ?? 'unknown',
    unitFileState: props.UnitFileState ?? '',
    mainPid: Number(props.MainPID ?? 0),
  }
}

/** Runs `systemctl <action> -- <unit>`. */
export async function systemctl(action: string, unit: string, signal: AbortSignal): Promise<void> {
  await assertSystemd()
  const r = await exec('systemctl', ['--no-ask-password', action, '--', unit], { signal, env: SYSTEMCTL_ENV })
  if (r.code !== 0)
    throw new ToolError(
      `systemctl ${action} ${unit} failed: ${tail(r.stderr)}`,
      SYSTEMD_TROUBLE.test(r.stderr),
      {
        fault: SYSTEMD_TROUBLE.test(r.stderr) || SYSTEMD_DENIED.test(r.stderr) ? 'dependency' : 'caller',
      },
    )
}

/** A digest of a unit's observable state, for read-before-write on `service:<unit>`. */
export function unitDigest(s: UnitStatus): string {
  return sha256Hex(`${s.loadState}\n${s.activeState}\n${s.subState}\n${s.mainPid}`)
}

/** Same, but undefined when systemd is not there (nothing to compare). */
export async function unitDigestOrUndefined(unit: string, signal: AbortSignal): Promise<string | undefined> {
  try {
    return unitDigest(await unitStatus(unit, signal))
  } catch {
    return undefined
  }
}
