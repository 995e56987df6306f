import { z } from 'zod'
import type { ToolSpec } from '../../src/tools/tool.js'

export const NoopArgs = z.object({ text: z.string().default('') })

/** A read tool that does nothing but echo `text`: what the harness and throughput benches run. */
export const noopTool: ToolSpec<typeof NoopArgs> = {
  name: 'noop',
  category: 'custom',
  description: 'does nothing',
  args: NoopArgs,
  access: 'read',
  timeoutMs: 10_000,
  target: () => undefined,
  run: async (a) => ({ output: a.text }),
  verify: async () => ({ kind: 'noop', summary: 'nothing to check', detail: {} }),
}
