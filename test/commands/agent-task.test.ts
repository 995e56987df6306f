import { describe, expect, it } from 'vitest'
import { slashCommands } from '../../handlers/slash-commands.js'
import { taskText } from '../../commands/agent-task.js'
import type { Effect, JobRequest } from '../../src/effects/effects.js'
import { commentEvent, world } from './helpers/world.js'

async function handle(body: string, setup?: (w: ReturnType<typeof world>) => void): Promise<Effect[]> {
  const w = world()
  setup?.(w)
  const event = commentEvent(body)
  return slashCommands.handle(event, w.ctx(event))
}

const jobOf = (effects: Effect[]): JobRequest | undefined =>
  effects.flatMap((e) => (e.type === 'enqueueJob' ? [e.job] : []))[0]
const replies = (effects: Effect[]): string =>
  effects.flatMap((e) => (e.type === 'comment' ? [e.body] : [])).join('\n---\n')

describe('agent task commands', () => {
  it('/ask goes to the archivist by role, carries the question verbatim and says why', async () => {
    const effects = await handle('/ask where is foo=bar set? --verbose "quoted"')
    const job = jobOf(effects)
    expect(job).toMatchObject({
      house: 'ezra',
      tool: 'agent.ask',
      args: { text: 'where is foo=bar set? --verbose "quoted"' },
      houseReason: 'by role: archivist answers questions',
      approval: expect.objectContaining({ required: false }),
    })
    expect(replies(effects)).toContain('house chosen: by role')
  })

  it('/ask names a house with @house anywhere in the line, and the @house is not part of the question', async () => {
    const job = jobOf(await handle('/ask how do retries work @bezalel'))
    expect(job).toMatchObject({
      house: 'bezalel',
      args: { text: 'how do retries work' },
      houseReason: 'named in the command',
    })
  })

  it('/ask without a question is refused with an example, and nothing is queued', async () => {
    const effects = await handle('/ask @ezra')
    expect(jobOf(effects)).toBeUndefined()
    expect(replies(effects)).toContain('Say what to ask')
  })

  it('a house without an agent is refused, naming the fix', async () => {
    const effects = await handle('/ask @allegro what is this?')
    expect(jobOf(effects)).toBeUndefined()
    expect(replies(effects)).toContain('has no agent')
  })

  it('/implement goes to the artificer; a house that may not write files is refused', async () => {
    expect(jobOf(await handle('/implement keep the API'))).toMatchObject({
      house: 'bezalel',
      tool: 'agent.implement',
      args: { text: 'keep the API' },
    })
    const effects = await handle('/implement @ezra')
    expect(jobOf(effects)).toMatchObject({ house: 'ezra' }) // ezra's globs allow file_*
  })

  it('/implement on the sovereign house waits for an approval (its policy gates everything)', async () => {
    const job = jobOf(await handle('/implement @timmy'))
    expect(job?.approval).toMatchObject({ required: true, approvers: ['timmy', 'sage'] })
  })

  it('/review is refused on an issue and queued on a pull request (on the sovereign review house)', async () => {
    const onIssue = await handle('/review')
    expect(jobOf(onIssue)).toBeUndefined()
    expect(replies(onIssue)).toContain('works on a pull request')
    const onPull = await handle('/review look at errors', (w) => {
      w.port.issues.get(1)!.isPull = true
    })
    expect(jobOf(onPull)).toMatchObject({
      house: 'timmy',
      tool: 'agent.review',
      args: { text: 'look at errors' },
    })
  })

  it('a reader cannot give an agent a task (their text would reach a prompt)', async () => {
    const w = world()
    const event = commentEvent('/ask what is this?', { author: { login: 'rita', id: 9 } })
    const byReader = await slashCommands.handle(event, w.ctx(event))
    expect(jobOf(byReader)).toBeUndefined()
  })

  it('/houses shows which houses have an agent', async () => {
    const text = replies(await handle('/houses'))
    expect(text).toContain('| House | Role | Agent | Tools |')
    expect(text).toMatch(/\*\*ezra\*\*.*`openai` `scripted`/)
    expect(text).toMatch(/\*\*allegro\*\*.*none \(tools only\)/)
  })

  it('taskText keeps the words and drops the command and one @house', () => {
    expect(taskText('/ask @ezra where   is it?', 'ezra')).toBe('where is it?')
    expect(taskText('/ask mail me@ezra.org', 'ezra')).toBe('mail me@ezra.org')
    expect(taskText('/implement', undefined)).toBe('')
  })
})
