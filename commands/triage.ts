import type { z } from 'zod'
import { commandInput } from '../src/commands-core/command-input.js'
import type { CommandSpec } from '../src/commands-core/command-spec.js'

export const TriageArgs = commandInput({})
export type TriageArgs = z.infer<typeof TriageArgs>

export const triage: CommandSpec<TriageArgs> = {
  name: 'triage',
  aliases: [],
  permission: 'write',
  args: TriageArgs,
  help: {
    usage: '/triage',
    description: 'Runs triage on this issue again: labels and house routing, as when it was opened.',
    examples: ['/triage'],
  },
  handle(ctx) {
    return ctx.triage.triage({
      repo: ctx.repo,
      issue: ctx.event.issue.number,
      requester: ctx.requester.login,
      deliveryId: ctx.event.deliveryId,
      commentId: ctx.event.commentId,
    })
  },
}
