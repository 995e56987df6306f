import { agentTaskCommand } from './agent-task.js'

/** `/review [@house] [focus]` on a pull request: a house's agent reviews the diff. */
export const review = agentTaskCommand({
  kind: 'review',
  aliases: [],
  usage: '/review [@house] [focus]',
  description:
    "On a pull request: a house's agent reviews the PR's diff against its base and posts a Gitea review of type comment with its findings. An agent never approves and never merges. Without `@house` the house with the sovereign review role reviews (timmy).",
  examples: ['/review', '/review @timmy look at the error handling'],
  needsText: false,
  async check(ctx) {
    if (!(await ctx.issue()).isPull)
      return '`/review` works on a pull request; this is an issue. Use `/ask` to ask about the code here.'
    return undefined
  },
})
