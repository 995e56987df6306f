import { z } from 'zod'
import { ToolError, type ToolContext } from '../tool.js'
import type { GiteaToolsPort, RepoRef } from './gitea-tools-port.js'

/** `owner/name`, parsed into a RepoRef. */
export const RepoArg = z
  .string()
  .regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name')
  .refine((s) => !s.split('/').some((part) => part === '.' || part === '..'), 'expected owner/name')
  .transform((s): RepoRef => {
    const [owner = '', name = ''] = s.split('/')
    return { owner, name }
  })

export const IssueIndex = z.number().int().positive()

/** The context's Gitea port, or a clear failure when this process has none. */
export function giteaOf(ctx: ToolContext): GiteaToolsPort {
  if (!ctx.gitea)
    throw new ToolError(
      'Gitea is not configured for this harness (no gitea port in the tool context)',
      false,
      {
        fault: 'dependency',
      },
    )
  return ctx.gitea
}

/**
 * Calls the port; GiteaError's `transient` (5xx, 429, network) becomes a transient ToolError, and
 * a failure of Gitea itself (those, and 401 for the bot's token) the dependency's fault.
 */
export async function viaPort<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    const e = err as { transient?: boolean; message?: string; status?: number }
    // 404, 422 and the like answer what was asked; 401 means the bot's own token is refused.
    const dependency = e.transient === true || e.status === 401 || e.status === 0 || (e.status ?? 0) >= 500
    throw new ToolError(`${operation} failed: ${e.message ?? String(err)}`, e.transient === true, {
      cause: err,
      fault: dependency ? 'dependency' : 'caller',
    })
  }
}
