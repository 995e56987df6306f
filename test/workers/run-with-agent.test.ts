import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Harness, KeyStore, OpenAIBackend, runWithAgent } from '../../src/index.js'
import { startModelDouble, type RunningModelDouble } from '../../src/agents/openai/double/index.js'
import { demoAgentStep } from '../../src/sandbox/demo-agent.js'
import { verifyEnvelope } from '../../src/provenance/dsse.js'

// Issue 13 §1: the library's `run_with_hermes`: one call runs a task on a house's agent and
// returns the answer, the events and the signed statement.
describe('runWithAgent (the library)', () => {
  let model: RunningModelDouble
  const dir = mkdtempSync(join(tmpdir(), 'uw-run-with-agent-'))
  beforeAll(async () => {
    model = await startModelDouble({ script: (request) => demoAgentStep(request) })
    writeFileSync(join(dir, 'README.md'), '# library demo\n')
  })
  afterAll(async () => {
    await model.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers from the workspace through the house policy and signs the result', async () => {
    const keyDir = join(dir, '.keys')
    const harness = new Harness({
      house: 'ezra',
      keyDir,
      auditPath: join(dir, '.audit.jsonl'),
      sign: true,
      log: pino({ level: 'silent' }),
    })
    const backend = new OpenAIBackend({ baseUrl: `${model.url}/v1`, model: 'scripted' })
    const out = await runWithAgent({
      harness,
      backend,
      prompt: 'What is this?',
      workspace: dir,
      requestedBy: 'alice',
    })
    expect(out.status).toBe('success')
    expect(out.answer).toContain('README.md begins with: "# library demo"')
    expect(out.events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['run.started', 'tool.started', 'tool.finished']),
    )
    const key = new KeyStore(keyDir).publicKey('ezra')
    expect(verifyEnvelope(out.result.envelope, key ? [key] : []).valid).toBe(true)
    expect(out.result.statement?.predicate.agent).toMatchObject({
      task: 'ask',
      backend: 'openai',
      eventLog: { events: out.events.length },
    })
  })

  it('a path outside the workspace is refused to the agent like any tool call', async () => {
    const harness = new Harness({
      house: 'ezra',
      keyDir: join(dir, '.keys'),
      auditPath: join(dir, '.audit.jsonl'),
      log: pino({ level: 'silent' }),
    })
    const double = await startModelDouble({
      script: [
        { toolCalls: [{ name: 'file_read', arguments: { path: '/etc/passwd' } }] },
        { content: 'done' },
      ],
    })
    try {
      const backend = new OpenAIBackend({ baseUrl: `${double.url}/v1`, model: 'scripted' })
      await runWithAgent({ harness, backend, prompt: 'read it', workspace: dir, requestedBy: 'alice' })
      const toolMessage = double.double.chatRequests[1]?.messages.find((m) => m.role === 'tool')
      expect(JSON.stringify(toolMessage)).toMatch(/outside|workspace/)
      expect(JSON.stringify(toolMessage)).not.toContain('root:x:0')
    } finally {
      await double.close()
    }
  })
})
