import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { AgentRunContext } from '../../../src/agents/agent-port.js'
import { OpenAIBackend, toolOffers } from '../../../src/agents/openai/index.js'
import { startModelDouble, type RunningModelDouble } from '../../../src/agents/openai/double/index.js'
import { Harness } from '../../../src/harness/harness.js'
import { House } from '../../../src/harness/house.js'
import { task } from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'uw-openai-loop-'))
const workspace = join(dir, 'ws')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let running: RunningModelDouble | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/**
 * The loop wired the way the worker wires it: the tools offered are the harness's, every call
 * goes through `Harness.execute`, the outcome's status and (redacted) output go back to the model.
 */
function harnessContext(harness: Harness, names: string[]): AgentRunContext {
  return {
    signal: new AbortController().signal,
    onEvent: async () => {},
    askApproval: async () => 'deny',
    tools: toolOffers(harness.listTools().filter((t) => names.includes(t.name))),
    executeTool: async (name, args, signal) => {
      const result = await harness.execute(name, args, { requestedBy: 'wren', signal })
      return {
        status: result.status,
        content: result.error ? `error: ${result.error.reason}` : result.output,
      }
    },
  }
}

describe('openai backend through the real harness', () => {
  it('the model reads, then writes, a file with JSON arguments the harness accepts; bad args come back as its reason', async () => {
    mkdirSync(workspace, { recursive: true })
    writeFileSync(join(workspace, 'notes.md'), 'old\n')
    const harness = new Harness({
      house: House.BEZALEL,
      keyDir: join(dir, 'keys'),
      auditPath: join(dir, 'audit.jsonl'),
      config: { houses: { bezalel: { workspaceRoots: [workspace] } } },
    })
    running = await startModelDouble({
      script: [
        { toolCalls: [{ id: 'r', name: 'file_read', arguments: { path: 'notes.md', maxBytes: 100 } }] },
        { toolCalls: [{ id: 'w0', name: 'file_write', arguments: { path: 'notes.md', content: 7 } }] },
        { toolCalls: [{ id: 'w', name: 'file_write', arguments: { path: 'notes.md', content: 'new\n' } }] },
        { content: 'Updated notes.md.' },
      ],
    })
    const backend = new OpenAIBackend({ baseUrl: `${running.url}/v1`, model: 'double-model' })
    const outcome = await backend.run(task(), harnessContext(harness, ['file_read', 'file_write']))
    await harness.close()

    expect(outcome).toMatchObject({ status: 'completed', answer: 'Updated notes.md.' })
    expect(readFileSync(join(workspace, 'notes.md'), 'utf8')).toBe('new\n')
    const requests = running.double.chatRequests
    const offered = requests[0]?.tools?.map((t) => t.function.name)
    expect(offered).toEqual(['file_read', 'file_write'])
    expect(requests[1]?.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'r' })
    expect(requests[1]?.messages.at(-1)?.content).toContain('old')
    const badArgs = requests[2]?.messages.at(-1)
    expect(badArgs).toMatchObject({ role: 'tool', tool_call_id: 'w0' })
    expect(badArgs?.content).toMatch(/^error: .*content/)
  })
})
