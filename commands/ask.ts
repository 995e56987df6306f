import { agentTaskCommand } from './agent-task.js'

/** `/ask [@house] <question>`: a read-only task for a house's agent. */
export const ask = agentTaskCommand({
  kind: 'ask',
  aliases: [],
  usage: '/ask [@house] <question>',
  description:
    "Asks a house's agent a question about this repository. The agent gets a read-only checkout (the pull request's head on a PR, the default branch on an issue), the issue and the question; it may only read. The answer is posted in the job's comment with the files it read (path and digest). Without `@house` the house with the analysis role answers (ezra); the reply says which.",
  examples: [
    '/ask where are webhook deliveries deduplicated?',
    '/ask @ezra what does the retry rule do with a 429?',
  ],
  needsText: true,
})
