/**
 * The agent tasks a house can be given (`/ask`, `/implement`, `/review`), and the job names they
 * run under. A job's `tool` is `agent.<kind>`: custom tool names cannot hold a dot, so no tool
 * can pose as a task and no task as a tool.
 */
export const AGENT_TASK_KINDS = ['ask', 'implement', 'review'] as const
export type AgentTaskKind = (typeof AGENT_TASK_KINDS)[number]

/**
 * @example
 *   agentJobName('ask') // 'agent.ask'
 */
export function agentJobName(kind: AgentTaskKind): string {
  return `agent.${kind}`
}

/**
 * The task a job name stands for, or undefined for a tool job.
 *
 * @example
 *   agentTaskOf('agent.review') // 'review'
 *   agentTaskOf('git_status') // undefined
 */
export function agentTaskOf(jobName: string): AgentTaskKind | undefined {
  const kind = jobName.startsWith('agent.') ? jobName.slice('agent.'.length) : undefined
  return AGENT_TASK_KINDS.find((k) => k === kind)
}

/** Whether a task may change the repository (the others get read tools only). */
export function taskWrites(kind: AgentTaskKind): boolean {
  return kind === 'implement'
}
