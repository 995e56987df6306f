import { mkdtemp, realpath, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createLogger } from '../../src/logger.js'
import type { ToolContext } from '../../src/tools/tool.js'
import { ToolsConfig } from '../../src/tools/tools-config.js'

/** A ToolContext over the given roots, with a silent logger and config overrides. */
export function toolContext(
  roots: string[],
  config: Record<string, unknown> = {},
  extra: Partial<ToolContext> = {},
): ToolContext {
  return {
    signal: new AbortController().signal,
    house: 'test',
    workspaceRoots: roots,
    log: createLogger({ level: 'silent' }),
    toolConfig: ToolsConfig.parse(config),
    ...extra,
  }
}

/** A fresh real temp directory; `cleanup` removes it. */
export async function tempDir(prefix = 'uw-tools-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), prefix)))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}
