import type { ChatCompletionRequest, ScriptStep } from '../agents/openai/double/index.js'

/**
 * The sandbox's scripted agent: what the OpenAI-compatible model double answers for every house,
 * so `/ask`, `/implement` and `/review` work on the demo issue with no model. It reads the task
 * from the system prompt (`Task: answer …`, `Task: make the change …`, `Task: review …`) and
 * works through the real tools, which the bot runs under the house's policy:
 * - ask: reads README.md, then answers with its first line;
 * - implement: writes `CHANGES.md` with a line naming the issue and the request, then says so;
 * - review: counts the files in the diff block and comments on it.
 * It is deterministic: the same conversation gets the same answer.
 */
export function demoAgentStep(request: ChatCompletionRequest): ScriptStep {
  const text = (m: ChatCompletionRequest['messages'][number]): string => {
    const c = (m as { content?: unknown }).content
    if (typeof c === 'string') return c
    if (Array.isArray(c)) return c.map((p: { text?: string }) => p.text ?? '').join('')
    return ''
  }
  const system = request.messages
    .filter((m) => m.role === 'system')
    .map(text)
    .join('\n')
  const user = request.messages
    .filter((m) => m.role === 'user')
    .map(text)
    .join('\n')
  const toolResults = request.messages.filter((m) => m.role === 'tool').map(text)
  const usage = { prompt_tokens: Math.ceil((system.length + user.length) / 4), completion_tokens: 40 }
  const issue = /(?:issue|pull request) #(\d+)/.exec(user)?.[1] ?? /#(\d+)/.exec(system)?.[1] ?? '?'

  if (/Task: review/.test(system)) {
    const files = [...user.matchAll(/^diff --git a\/(\S+)/gm)].map((m) => m[1])
    return {
      content:
        files.length === 0
          ? 'I found no changes in this pull request to review.'
          : `I read the diff: ${files.length} file(s) changed (${files.join(', ')}). The change is small and consistent; I have no blocking findings. (Scripted sandbox review: no model was asked.)`,
      usage,
    }
  }
  if (/Task: make the change/.test(system)) {
    if (toolResults.length === 0) {
      const asked = /<<<UNTRUSTED \w+ the request[^\n]*\n([\s\S]*?)\n<<<END/.exec(user)?.[1]?.trim() ?? ''
      return {
        content: 'I will record the change in CHANGES.md.',
        toolCalls: [
          {
            name: 'file_write',
            arguments: {
              path: 'CHANGES.md',
              content: `# Changes\n\n- Implemented issue #${issue}${asked ? ` (${asked.slice(0, 80).replace(/\s+/g, ' ')})` : ''}.\n`,
            },
          },
        ],
        usage,
      }
    }
    return {
      content: `I wrote CHANGES.md with a line for issue #${issue}. (Scripted sandbox agent: no model was asked.)`,
      usage,
    }
  }
  // Ask (and anything else): read the README, then answer from it.
  if (toolResults.length === 0)
    return { toolCalls: [{ name: 'file_read', arguments: { path: 'README.md' } }], usage }
  const first = (toolResults[0] ?? '').split('\n').find((l) => l.trim().length > 0) ?? '(empty)'
  return {
    content: `README.md begins with: "${first.slice(0, 200)}". (Scripted sandbox agent: it reads the README and quotes it; point a house at a real model to get real answers.)`,
    usage,
  }
}
