import type {
  ChangedFileRecord,
  CommentRecord,
  DoubleStore,
  IssueRecord,
  LabelRecord,
  RepoRecord,
  ReviewRecord,
  StatusRecord,
  UserRecord,
} from './store.js'

// Renders records as Gitea 1.26.3's API JSON (modules/structs, modules/convert), with the
// fields in Go's struct order so webhook bodies look byte-for-byte like Gitea's. The same
// shapes go into API answers and webhook payloads, as in Gitea.

export type Json = Record<string, unknown>

const ZERO_TIME = '0001-01-01T00:00:00Z'

/** Gitea's default [repository.pull-request] WORK_IN_PROGRESS_PREFIXES. */
export const WORK_IN_PROGRESS_PREFIXES = ['WIP:', '[WIP]']

/** Gitea's pull_service.HasWorkInProgressPrefix: a case-insensitive title prefix. */
export function isWorkInProgress(title: string): boolean {
  const upper = title.toUpperCase()
  return WORK_IN_PROGRESS_PREFIXES.some((prefix) => upper.startsWith(prefix.toUpperCase()))
}

/** A commit as git stores it, for the branch endpoint. */
export interface CommitInfo {
  sha: string
  message: string
  author: { name: string; email: string }
  committer: { name: string; email: string }
  timestamp: string
}

export class Renderer {
  constructor(
    private readonly store: DoubleStore,
    private readonly baseUrl: () => string,
    /** A hosted repository's branches (name → sha); undefined for a repository without git. */
    private readonly branchesOf: (repo: RepoRecord) => Map<string, string> | undefined = () => undefined,
  ) {}

  user(user: UserRecord): Json {
    const base = this.baseUrl()
    return {
      id: user.id,
      login: user.login,
      login_name: '',
      source_id: 0,
      full_name: user.fullName,
      email: user.email,
      avatar_url: `${base}/avatars/${user.id}`,
      html_url: `${base}/${user.login}`,
      language: '',
      is_admin: user.isAdmin,
      last_login: ZERO_TIME,
      created: user.created,
      restricted: false,
      active: true,
      prohibit_login: false,
      location: '',
      website: '',
      description: '',
      visibility: 'public',
      followers_count: 0,
      following_count: 0,
      starred_repos_count: 0,
      username: user.login,
    }
  }

  repository(repo: RepoRecord, viewer: UserRecord | undefined): Json {
    const base = this.baseUrl()
    const owner = this.store.ownerOf(repo)
    const full = `${owner.login}/${repo.name}`
    const issues = [...repo.issues.values()]
    const mode = viewer ? this.store.accessMode(repo, viewer) : 'none'
    const branches = this.branchesOf(repo)
    return {
      id: repo.id,
      owner: this.user(owner),
      name: repo.name,
      full_name: full,
      description: repo.description,
      empty: branches !== undefined && branches.size === 0,
      private: repo.private,
      fork: false,
      template: false,
      mirror: false,
      size: 0,
      language: '',
      languages_url: `${base}/api/v1/repos/${full}/languages`,
      html_url: `${base}/${full}`,
      url: `${base}/api/v1/repos/${full}`,
      link: '',
      ssh_url: `git@localhost:${full}.git`,
      clone_url: `${base}/${full}.git`,
      original_url: '',
      website: '',
      stars_count: 0,
      forks_count: 0,
      watchers_count: 1,
      branch_count: branches?.size ?? 1,
      open_issues_count: issues.filter((i) => !i.pull && i.state === 'open').length,
      open_pr_counter: issues.filter((i) => i.pull && i.state === 'open').length,
      release_counter: 0,
      default_branch: repo.defaultBranch,
      archived: false,
      created_at: repo.created,
      updated_at: repo.created,
      archived_at: '1970-01-01T00:00:00Z',
      permissions: {
        admin: mode === 'admin' || mode === 'owner',
        push: mode !== 'none' && mode !== 'read',
        pull: mode !== 'none',
      },
      has_code: true,
      has_issues: true,
      internal_tracker: {
        enable_time_tracker: true,
        allow_only_contributors_to_track_time: true,
        enable_issue_dependencies: true,
      },
      has_wiki: true,
      has_pull_requests: true,
      has_projects: true,
      projects_mode: 'all',
      has_releases: true,
      has_packages: true,
      has_actions: true,
      ignore_whitespace_conflicts: false,
      allow_merge_commits: true,
      allow_rebase: true,
      allow_rebase_explicit: true,
      allow_squash_merge: true,
      allow_fast_forward_only_merge: true,
      allow_rebase_update: true,
      allow_manual_merge: false,
      autodetect_manual_merge: false,
      default_delete_branch_after_merge: false,
      default_merge_style: 'merge',
      default_allow_maintainer_edit: true,
      avatar_url: '',
      internal: false,
      mirror_interval: '',
      object_format_name: 'sha1',
      mirror_updated: ZERO_TIME,
      topics: [],
      licenses: [],
    }
  }

  label(repo: RepoRecord, label: LabelRecord): Json {
    return {
      id: label.id,
      name: label.name,
      exclusive: label.exclusive,
      is_archived: false,
      color: label.color,
      description: label.description,
      url: `${this.apiRepoUrl(repo)}/labels/${label.id}`,
    }
  }

  issueLabels(repo: RepoRecord, issue: IssueRecord): Json[] {
    return issue.labelIds.flatMap((id) => {
      const label = repo.labels.get(id)
      return label ? [this.label(repo, label)] : []
    })
  }

  issue(repo: RepoRecord, issue: IssueRecord): Json {
    const owner = this.store.ownerOf(repo)
    const assignees = issue.assigneeIds.map((id) => this.user(this.store.user(id)))
    const firstAssignee = assignees[0]
    return {
      id: issue.id,
      url: `${this.apiRepoUrl(repo)}/issues/${issue.number}`,
      html_url: this.issueHtmlUrl(repo, issue),
      number: issue.number,
      user: this.user(this.store.user(issue.posterId)),
      original_author: '',
      original_author_id: 0,
      title: issue.title,
      body: issue.body,
      ref: '',
      assets: [],
      labels: this.issueLabels(repo, issue),
      milestone: null,
      assignee: firstAssignee ?? null,
      // Gitea leaves the slice nil (null) when nobody is assigned.
      assignees: assignees.length > 0 ? assignees : null,
      state: issue.state,
      is_locked: false,
      comments: [...repo.comments.values()].filter((c) => c.issueNumber === issue.number).length,
      created_at: issue.created,
      updated_at: issue.updated,
      closed_at: issue.closed,
      due_date: null,
      time_estimate: 0,
      ...(issue.pull
        ? {
            pull_request: {
              merged: issue.pull.merged,
              merged_at: null,
              draft: isWorkInProgress(issue.title),
              html_url: this.issueHtmlUrl(repo, issue),
            },
          }
        : { pull_request: null }),
      repository: {
        id: repo.id,
        name: repo.name,
        owner: owner.login,
        full_name: `${owner.login}/${repo.name}`,
      },
      pin_order: 0,
      content_version: 0,
    }
  }

  comment(repo: RepoRecord, comment: CommentRecord): Json {
    const issue = repo.issues.get(comment.issueNumber)
    const issueUrl = issue ? this.issueHtmlUrl(repo, issue) : ''
    return {
      id: comment.id,
      html_url: `${issueUrl}#issuecomment-${comment.id}`,
      // Gitea fills exactly one of these, depending on whether the issue is a pull request.
      pull_request_url: issue?.pull ? issueUrl : '',
      issue_url: issue?.pull ? '' : issueUrl,
      user: this.user(this.store.user(comment.posterId)),
      original_author: '',
      original_author_id: 0,
      body: comment.body,
      assets: [],
      created_at: comment.created,
      updated_at: comment.updated,
    }
  }

  pullRequest(repo: RepoRecord, issue: IssueRecord, viewer: UserRecord | undefined): Json {
    const pull = issue.pull
    if (!pull) throw new Error(`double: #${issue.number} is not a pull request`)
    const htmlUrl = this.issueHtmlUrl(repo, issue)
    const additions = pull.files.reduce((n, f) => n + f.additions, 0)
    const deletions = pull.files.reduce((n, f) => n + f.deletions, 0)
    const assignees = issue.assigneeIds.map((id) => this.user(this.store.user(id)))
    const branch = (ref: string, sha: string) => ({
      label: ref,
      ref,
      sha,
      repo_id: repo.id,
      repo: this.repository(repo, viewer),
    })
    return {
      id: pull.id,
      url: htmlUrl,
      number: issue.number,
      user: this.user(this.store.user(issue.posterId)),
      title: issue.title,
      body: issue.body,
      labels: this.issueLabels(repo, issue),
      milestone: null,
      assignee: assignees[0] ?? null,
      assignees,
      requested_reviewers: [],
      requested_reviewers_teams: [],
      state: issue.state,
      draft: isWorkInProgress(issue.title),
      is_locked: false,
      comments: [...repo.comments.values()].filter((c) => c.issueNumber === issue.number).length,
      review_comments: 0,
      additions,
      deletions,
      changed_files: pull.files.length,
      html_url: htmlUrl,
      diff_url: `${htmlUrl}.diff`,
      patch_url: `${htmlUrl}.patch`,
      mergeable: !pull.merged && issue.state === 'open',
      merged: pull.merged,
      merged_at: null,
      merge_commit_sha: null,
      merged_by: null,
      allow_maintainer_edit: true,
      base: branch(pull.baseRef, pull.baseSha),
      head: branch(pull.headRef, pull.headSha),
      merge_base: pull.baseSha,
      due_date: null,
      created_at: issue.created,
      updated_at: issue.updated,
      closed_at: issue.closed,
      pin_order: 0,
      content_version: 0,
    }
  }

  /** Gitea's PullReview (convert.ToPullReview), its fields in Gitea's order. */
  pullReview(repo: RepoRecord, issue: IssueRecord, review: ReviewRecord): Json {
    const htmlUrl = this.issueHtmlUrl(repo, issue)
    return {
      id: review.id,
      user: this.user(this.store.user(review.reviewerId)),
      team: null,
      state: review.state,
      body: review.body,
      commit_id: review.commitId,
      stale: false,
      official: false,
      dismissed: false,
      comments_count: 0,
      submitted_at: review.submitted,
      updated_at: review.submitted,
      html_url: `${htmlUrl}#issuecomment-${review.commentId}`,
      pull_request_url: htmlUrl,
    }
  }

  changedFile(repo: RepoRecord, issue: IssueRecord, file: ChangedFileRecord): Json {
    const full = `${this.baseUrl()}/${this.store.ownerOf(repo).login}/${repo.name}`
    const sha = issue.pull?.headSha ?? ''
    return {
      filename: file.filename,
      status: file.status,
      additions: file.additions,
      deletions: file.deletions,
      changes: file.additions + file.deletions,
      html_url: `${full}/src/commit/${sha}/${file.filename}`,
      contents_url: `${this.apiRepoUrl(repo)}/contents/${file.filename}?ref=${sha}`,
      raw_url: `${full}/raw/commit/${sha}/${file.filename}`,
    }
  }

  commitStatus(repo: RepoRecord, status: StatusRecord): Json {
    return {
      id: status.id,
      status: status.state,
      target_url: status.targetUrl,
      description: status.description,
      url: `${this.apiRepoUrl(repo)}/statuses/${status.sha}`,
      context: status.context,
      creator: this.user(this.store.user(status.creatorId)),
      created_at: status.created,
      updated_at: status.created,
    }
  }

  /** Gitea's convert.ToBranch for a branch of a hosted repository. */
  branch(repo: RepoRecord, name: string, commit: CommitInfo, viewer: UserRecord): Json {
    const full = `${this.baseUrl()}/${this.store.ownerOf(repo).login}/${repo.name}`
    const isProtected = repo.protectedBranches.has(name)
    const canWrite = this.store.canWrite(repo, viewer)
    const person = (p: { name: string; email: string }) => ({ name: p.name, email: p.email, username: '' })
    return {
      name,
      commit: {
        id: commit.sha,
        message: commit.message,
        url: `${full}/commit/${commit.sha}`,
        author: person(commit.author),
        committer: person(commit.committer),
        verification: {
          verified: false,
          reason: 'gpg.error.not_signed_commit',
          signature: '',
          signer: null,
          payload: '',
        },
        timestamp: commit.timestamp,
        added: null,
        removed: null,
        modified: null,
      },
      protected: isProtected,
      required_approvals: 0,
      enable_status_check: false,
      // Gitea leaves this nil on an unprotected branch; the swagger slice has no nullable
      // entry for Branch, so the double sends the empty list.
      status_check_contexts: [],
      user_can_push: canWrite && !isProtected,
      user_can_merge: canWrite,
      effective_branch_protection_name: isProtected ? name : '',
    }
  }

  reaction(user: UserRecord, content: string, created: string): Json {
    return { user: this.user(user), content, created_at: created }
  }

  private apiRepoUrl(repo: RepoRecord): string {
    return `${this.baseUrl()}/api/v1/repos/${this.store.ownerOf(repo).login}/${repo.name}`
  }

  private issueHtmlUrl(repo: RepoRecord, issue: IssueRecord): string {
    return `${this.baseUrl()}/${this.store.ownerOf(repo).login}/${repo.name}/${issue.pull ? 'pulls' : 'issues'}/${issue.number}`
  }
}
