import { toolsConfigOf } from '../tools-config.js'
import { ToolError, type ToolContext } from '../tool.js'

/**
 * The branch prefix this house pushes under and opens pull requests from:
 * `toolSettings.git.branchPrefix` with `{house}` replaced by the house's name (default `uw/<house>/`).
 *
 * @example
 *   branchPrefixOf({ house: 'bezalel' }) // 'uw/bezalel/'
 */
export function branchPrefixOf(ctx: Pick<ToolContext, 'house' | 'toolConfig'>): string {
  return fillBranchPrefix(toolsConfigOf(ctx).git.branchPrefix, ctx.house)
}

/**
 * A configured branch prefix with `{house}` replaced by the house's name.
 *
 * @example
 *   fillBranchPrefix('uw/{house}/', 'bezalel') // 'uw/bezalel/'
 */
export function fillBranchPrefix(prefix: string, house: string): string {
  return prefix.replaceAll('{house}', house)
}

/**
 * Refuses a branch that is not under the house's prefix (or is the prefix itself, with nothing
 * after it). The name was already checked by GitRefName; this is the policy on top of it.
 *
 * @example
 *   assertUnderPrefix('uw/bezalel/fix-typo', ctx) // ok
 *   assertUnderPrefix('main', ctx) // throws: refused: branch "main" is not under uw/bezalel/ ...
 */
export function assertUnderPrefix(branch: string, ctx: Pick<ToolContext, 'house' | 'toolConfig'>): void {
  const prefix = branchPrefixOf(ctx)
  if (!branch.startsWith(prefix) || branch.length === prefix.length)
    throw new ToolError(
      `refused: branch "${branch}" is not under ${prefix} (this house pushes and opens pull requests ` +
        `only from branches named ${prefix}<name>)`,
    )
}
