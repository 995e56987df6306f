import { agentTaskCommand } from './agent-task.js'

/** `/implement [@house] [instructions]`: a house's agent changes the repository and opens a pull request. */
export const implement = agentTaskCommand({
  kind: 'implement',
  aliases: [],
  usage: '/implement [@house] [instructions]',
  description:
    "Gives this issue to a house's agent to implement. It works in its own checkout on a branch under the house's prefix; when it is done the bot runs the repository's proof commands (`.uni-wizard.yaml`), and only when they pass commits, pushes and opens a work-in-progress pull request that refers to this issue, with the agent's summary, the proof and signed provenance. If the house asks approval for writes, the push waits for a sovereign's `/approve` of the exact diff. Without `@house` the house with the implementation role does it (bezalel).",
  examples: ['/implement', '/implement @bezalel keep the public API unchanged'],
  needsText: false,
})
