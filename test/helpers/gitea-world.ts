import type { GiteaDouble } from '../../src/gitea/double/index.js'
import type { RepoRef } from '../../src/gitea/port.js'

/** Tokens of the seeded users, so tests can act as any of them. */
export interface GiteaWorld {
  repo: RepoRef
  tokens: Record<'bot' | 'alice' | 'bob' | 'carol' | 'site', string>
  labels: { bug: number; typeBug: number; typeFeature: number }
  issue: number
  pull: number
  headSha: string
}

/**
 * Seeds the standard world: alice owns alice/demo; gitea-bot is a write collaborator; carol
 * an admin collaborator; bob a plain user who opened issue #1 and PR #2; site is a site admin.
 */
export function seedGiteaWorld(double: GiteaDouble): GiteaWorld {
  const bot = double.createUser({ login: 'gitea-bot' })
  const alice = double.createUser({ login: 'alice', fullName: 'Alice Owner' })
  const bob = double.createUser({ login: 'bob' })
  const carol = double.createUser({ login: 'carol' })
  const site = double.createUser({ login: 'site', isAdmin: true })
  const repo = double.createRepo({ owner: 'alice', name: 'demo' })
  double.addCollaborator(repo, 'gitea-bot', 'write')
  double.addCollaborator(repo, 'carol', 'admin')
  const bug = double.createLabel(repo, {
    name: 'bug',
    color: 'ee0701',
    description: 'Something is not working',
  })
  const typeBug = double.createLabel(repo, { name: 'type/bug', color: 'd73a4a', exclusive: true })
  const typeFeature = double.createLabel(repo, { name: 'type/feature', color: 'a2eeef', exclusive: true })
  const issue = double.createIssue(repo, { title: 'Crash on start', body: 'It crashes.', author: 'bob' })
  const pull = double.openPullRequest(repo, {
    title: 'Fix crash',
    body: 'Fixes #1',
    author: 'bob',
    head: 'fix-crash',
    files: [
      { filename: 'src/main.ts', status: 'modified', additions: 10, deletions: 2 },
      { filename: 'docs/NOTES.md', status: 'added', additions: 5, deletions: 0 },
    ],
  })
  return {
    repo,
    tokens: { bot: bot.token, alice: alice.token, bob: bob.token, carol: carol.token, site: site.token },
    labels: { bug: bug.id, typeBug: typeBug.id, typeFeature: typeFeature.id },
    issue: issue.number,
    pull: pull.number,
    headSha: pull.pull?.headSha ?? '',
  }
}
