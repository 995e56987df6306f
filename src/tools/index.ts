export { builtinTools } from './builtin-tools.js'
export { toolsFromConfig } from './tools-from-config.js'
export { ToolError } from './tool.js'
export type {
  Evidence,
  ToolAccess,
  ToolCategory,
  ToolContext,
  ToolFault,
  ToolRunResult,
  ToolSpec,
} from './tool.js'
export { ToolsConfig, toolsConfigOf, type HealthEndpoint } from './tools-config.js'
export { exec, type ExecOptions, type ExecResult } from './exec.js'
export { resolveInWorkspace, describePath, type ResolvedPath } from './workspace.js'
export { guardedFetch, resolveChecked, blockedReason, hostAllowed, type GuardedResponse } from './ssrf.js'
export { sha256Hex } from './digest.js'
export { customTool, customArgv, customArgsSchema } from './custom/custom-tool.js'
export { CustomToolDef, CustomArgDef } from './custom/custom-tool-def.js'
export type { GiteaToolsPort, RepoRef } from './gitea/gitea-tools-port.js'
export { fileList } from './file/file-list.js'
export { fileRead } from './file/file-read.js'
export { fileSearch } from './file/file-search.js'
export { fileWrite } from './file/file-write.js'
export { gitBranchList } from './git/git-branch-list.js'
export { gitCheckout } from './git/git-checkout.js'
export { gitCommit } from './git/git-commit.js'
export { gitLog } from './git/git-log.js'
export { gitPull } from './git/git-pull.js'
export { gitPush } from './git/git-push.js'
export { gitStatus } from './git/git-status.js'
export { giteaComment } from './gitea/gitea-comment.js'
export { giteaCreateIssue } from './gitea/gitea-create-issue.js'
export { giteaGetIssue } from './gitea/gitea-get-issue.js'
export { giteaListIssues } from './gitea/gitea-list-issues.js'
export { httpGet } from './network/http-get.js'
export { httpPost } from './network/http-post.js'
export { diskUsage } from './system/disk-usage.js'
export { healthCheck } from './system/health-check.js'
export { processList } from './system/process-list.js'
export { serviceControl } from './system/service-control.js'
export { serviceStatus } from './system/service-status.js'
export { systemInfo } from './system/system-info.js'
