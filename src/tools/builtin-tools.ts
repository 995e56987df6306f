import { fileList } from './file/file-list.js'
import { fileRead } from './file/file-read.js'
import { fileSearch } from './file/file-search.js'
import { fileWrite } from './file/file-write.js'
import { gitBranchList } from './git/git-branch-list.js'
import { gitCheckout } from './git/git-checkout.js'
import { gitCommit } from './git/git-commit.js'
import { gitLog } from './git/git-log.js'
import { gitPull } from './git/git-pull.js'
import { gitPush } from './git/git-push.js'
import { gitStatus } from './git/git-status.js'
import { giteaComment } from './gitea/gitea-comment.js'
import { giteaCreateIssue } from './gitea/gitea-create-issue.js'
import { giteaCreatePr } from './gitea/gitea-create-pr.js'
import { giteaGetIssue } from './gitea/gitea-get-issue.js'
import { giteaListIssues } from './gitea/gitea-list-issues.js'
import { httpGet } from './network/http-get.js'
import { httpPost } from './network/http-post.js'
import { diskUsage } from './system/disk-usage.js'
import { healthCheck } from './system/health-check.js'
import { processList } from './system/process-list.js'
import { serviceControl } from './system/service-control.js'
import { serviceStatus } from './system/service-status.js'
import { systemInfo } from './system/system-info.js'
import type { ToolSpec } from './tool.js'

/** Every built-in tool, in the order `uni-wizard tools` lists them. */
export const builtinTools: ToolSpec[] = [
  systemInfo,
  processList,
  diskUsage,
  serviceStatus,
  serviceControl,
  healthCheck,
  gitStatus,
  gitLog,
  gitBranchList,
  gitPull,
  gitCommit,
  gitPush,
  gitCheckout,
  fileRead,
  fileWrite,
  fileList,
  fileSearch,
  httpGet,
  httpPost,
  giteaGetIssue,
  giteaListIssues,
  giteaCreateIssue,
  giteaComment,
  giteaCreatePr,
]
