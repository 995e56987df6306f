import { z } from 'zod'
import type {
  GiteaBranch,
  GiteaChangedFile,
  GiteaComment,
  GiteaIssue,
  GiteaLabel,
  GiteaPullRequest,
  GiteaPullReview,
  GiteaRepository,
  GiteaUser,
  RepoPermission,
} from './port.js'

// Gitea's answers are a trust boundary: parse only the fields the port exposes, then map
// them to the port's camelCase types. Go marshals nil slices and pointers as null, so
// lists and optional objects accept null.

export const ApiUser = z.object({ id: z.number(), login: z.string() })
export type ApiUser = z.infer<typeof ApiUser>

export const ApiLabel = z.object({
  id: z.number(),
  name: z.string(),
  color: z.string(),
  description: z.string().nullish(),
  exclusive: z.boolean().nullish(),
})
export type ApiLabel = z.infer<typeof ApiLabel>

const nullableList = <T extends z.ZodType>(item: T) => z.array(item).nullish()

export const ApiIssue = z.object({
  number: z.number(),
  title: z.string(),
  body: z.string().nullish(),
  state: z.enum(['open', 'closed']),
  user: ApiUser,
  labels: nullableList(ApiLabel),
  assignees: nullableList(ApiUser),
  html_url: z.string(),
  created_at: z.string(),
  closed_at: z.string().nullish(),
  // Present (an object) exactly when the issue is a pull request.
  pull_request: z.object({}).loose().nullish(),
})
export type ApiIssue = z.infer<typeof ApiIssue>

export const ApiComment = z.object({
  id: z.number(),
  body: z.string().nullish(),
  user: ApiUser,
  html_url: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
})
export type ApiComment = z.infer<typeof ApiComment>

const ApiBranch = z.object({ ref: z.string(), sha: z.string() })

export const ApiPullRequest = z.object({
  number: z.number(),
  title: z.string(),
  body: z.string().nullish(),
  state: z.enum(['open', 'closed']),
  merged: z.boolean().nullish(),
  head: ApiBranch,
  base: ApiBranch,
  additions: z.number().nullish(),
  deletions: z.number().nullish(),
  changed_files: z.number().nullish(),
  user: ApiUser,
  labels: nullableList(ApiLabel),
  html_url: z.string(),
  draft: z.boolean().nullish(),
})
export type ApiPullRequest = z.infer<typeof ApiPullRequest>

export const ApiPullReview = z.object({ id: z.number(), html_url: z.string() })
export type ApiPullReview = z.infer<typeof ApiPullReview>

export const ApiRepository = z.object({
  owner: ApiUser,
  name: z.string(),
  full_name: z.string(),
  default_branch: z.string(),
  clone_url: z.string(),
  html_url: z.string(),
  private: z.boolean(),
  empty: z.boolean(),
})

export const ApiBranchInfo = z.object({
  name: z.string(),
  commit: z.object({ id: z.string() }),
  protected: z.boolean().nullish(),
})

export const ApiChangedFile = z.object({
  filename: z.string(),
  status: z.string(),
  additions: z.number(),
  deletions: z.number(),
})

export const ApiPermission = z.object({
  permission: z.enum(['none', 'read', 'write', 'admin', 'owner']),
})

export function toUser(raw: ApiUser): GiteaUser {
  return { id: raw.id, login: raw.login }
}

export function toLabel(raw: ApiLabel): GiteaLabel {
  return {
    id: raw.id,
    name: raw.name,
    color: raw.color,
    description: raw.description ?? '',
    exclusive: raw.exclusive ?? false,
  }
}

export function toIssue(raw: ApiIssue): GiteaIssue {
  return {
    number: raw.number,
    title: raw.title,
    body: raw.body ?? '',
    state: raw.state,
    isPull: raw.pull_request !== null && raw.pull_request !== undefined,
    user: toUser(raw.user),
    labels: (raw.labels ?? []).map(toLabel),
    assignees: (raw.assignees ?? []).map(toUser),
    htmlUrl: raw.html_url,
    createdAt: raw.created_at,
    closedAt: raw.closed_at ?? null,
  }
}

export function toComment(raw: ApiComment): GiteaComment {
  return {
    id: raw.id,
    body: raw.body ?? '',
    user: toUser(raw.user),
    htmlUrl: raw.html_url,
    createdAt: raw.created_at,
    updatedAt: raw.updated_at,
  }
}

export function toPullRequest(raw: ApiPullRequest): GiteaPullRequest {
  return {
    number: raw.number,
    title: raw.title,
    body: raw.body ?? '',
    state: raw.state,
    merged: raw.merged ?? false,
    headSha: raw.head.sha,
    headRef: raw.head.ref,
    baseRef: raw.base.ref,
    additions: raw.additions ?? 0,
    deletions: raw.deletions ?? 0,
    changedFiles: raw.changed_files ?? 0,
    user: toUser(raw.user),
    labels: (raw.labels ?? []).map(toLabel),
    htmlUrl: raw.html_url,
    draft: raw.draft ?? false,
  }
}

export function toRepository(raw: z.infer<typeof ApiRepository>): GiteaRepository {
  return {
    owner: raw.owner.login,
    name: raw.name,
    fullName: raw.full_name,
    defaultBranch: raw.default_branch,
    cloneUrl: raw.clone_url,
    htmlUrl: raw.html_url,
    private: raw.private,
    empty: raw.empty,
  }
}

export function toBranch(raw: z.infer<typeof ApiBranchInfo>): GiteaBranch {
  return { name: raw.name, commitSha: raw.commit.id, protected: raw.protected ?? false }
}

export function toChangedFile(raw: z.infer<typeof ApiChangedFile>): GiteaChangedFile {
  return { filename: raw.filename, status: raw.status, additions: raw.additions, deletions: raw.deletions }
}

export function toPermission(raw: z.infer<typeof ApiPermission>): RepoPermission {
  return raw.permission
}

export function toPullReview(r: ApiPullReview): GiteaPullReview {
  return { id: r.id, url: r.html_url }
}
