import { randomBytes } from 'node:crypto'
import { loadCatalogue, type CatalogueLabel } from '../../labels/catalogue.js'
import type { GiteaLabel, GiteaPort, GiteaUser, RepoRef } from '../gitea/port.js'
import type { Logger } from '../logger.js'
import {
  groupId,
  mergeNotification,
  newGroup,
  planGroupStep,
  toldAll,
  type GroupState,
  type GroupStep,
  type KnownAlert,
} from './alert-group.js'
import type { AlertGroupStore, HeldGroup } from './alert-group-store.js'
import { alertLabels } from './alert-labels.js'
import type { AlertmanagerNotification } from './alertmanager-notification.js'
import {
  alertChangeComment,
  alertIssueBody,
  alertIssueTitle,
  changeMarker,
  groupMarker,
} from './render-alert.js'

export interface AlertBridgeOptions {
  port: GiteaPort
  store: AlertGroupStore
  /** The repository that gets the issues. */
  repo: RepoRef
  /** The bot's Gitea login: recovery adopts only issues and comments it wrote. */
  botLogin: string
  /** Catalogue labels every alert issue gets (config `alerts.labels`). */
  labels: readonly string[]
  log: Logger
  /** Default: the shipped catalogue (labels/catalogue.yaml). */
  catalogue?: readonly CatalogueLabel[]
  /** Plan and log the next step, change nothing (config `dryRun`). */
  dryRun?: boolean
}

/** What one notification did. */
export interface BridgeOutcome {
  group: string
  issue: number | undefined
  /** The steps applied, in order (none for a redelivery). */
  steps: GroupStep['kind'][]
}

/** More steps than any change needs (reopen, comment, label, close): a loop guard, not a limit. */
const MAX_STEPS = 8

/** 128 random bits as 32 hex digits, for the marker of one pending call. */
const newNonce = () => randomBytes(16).toString('hex')

/**
 * Turns Alertmanager notifications into one Gitea issue per alert group: opened when an alert
 * fires, a comment per change, labels from the catalogue, closed when all are resolved, reopened
 * when one fires again. Each notification is merged into the group's record under the group's
 * lock, then the record is brought in line with Gitea one step at a time; every Gitea call is
 * written ahead (`pending`) and found again by its marker after a crash, so redeliveries, the
 * copies of two Alertmanagers and retries after a failure apply nothing twice. A failure throws
 * (the receiver answers 503, Alertmanager sends again) with the merged state kept.
 *
 * @example
 *   const bridge = new AlertBridge({ port, store, repo: { owner: 'ops', name: 'alerts' }, botLogin: 'uw-bot', labels: ['type/ops'], log })
 *   await bridge.receive(AlertmanagerNotification.parse(body))
 */
export class AlertBridge {
  private readonly catalogue: readonly CatalogueLabel[]

  constructor(private readonly opts: AlertBridgeOptions) {
    this.catalogue = opts.catalogue ?? loadCatalogue().labels
  }

  async receive(n: AlertmanagerNotification): Promise<BridgeOutcome> {
    const gid = groupId(n.groupKey)
    const log = this.opts.log.child({ alertGroup: gid })
    return this.opts.store.withGroup(gid, async (held) => {
      const before = held.state
      const merged = mergeNotification(before ?? newGroup(n), n)
      if (this.opts.dryRun) {
        const step = planGroupStep(merged, (f) => this.labelsOf(f).labels)
        log.info({ step: step?.kind, issue: merged.issue }, 'dry run: alert group step not applied')
        return { group: gid, issue: merged.issue, steps: [] }
      }
      if (JSON.stringify(merged) !== JSON.stringify(before)) await held.save(merged)
      const steps: GroupStep['kind'][] = []
      if (held.state?.pending) await this.recover(gid, held, held.state)
      for (let i = 0; i < MAX_STEPS; i++) {
        const state = held.state as GroupState
        const step = planGroupStep(state, (f) => this.labelsOf(f).labels)
        if (!step) break
        await this.apply(gid, held, state, step)
        steps.push(step.kind)
        log.info({ step: step.kind, issue: held.state?.issue }, 'alert group step applied')
      }
      return { group: gid, issue: held.state?.issue, steps }
    })
  }

  private labelsOf(firing: readonly KnownAlert[]) {
    return alertLabels(firing, this.catalogue, this.opts.labels)
  }

  /**
   * A Gitea call written ahead and not recorded done (the process stopped, or Gitea failed
   * without saying whether it applied it): when its marker is in Gitea it was applied, so its
   * outcome is recorded; otherwise it is forgotten and planned again. Only what the bot wrote and
   * what starts with the marker counts: alert text and other people's issues and comments can
   * quote a marker, never write as the bot, and the marker's nonce was never shown before.
   */
  private async recover(gid: string, held: HeldGroup, state: GroupState): Promise<void> {
    const { port, repo } = this.opts
    const pending = state.pending
    const ours = (marker: string) => (c: { user: GiteaUser; body: string }) =>
      c.user.login.toLowerCase() === this.opts.botLogin.toLowerCase() && c.body.startsWith(marker)
    if (pending?.kind === 'open') {
      // An issue opened moments ago is on the first page, newest first.
      const found = (await port.listIssues(repo, { state: 'all', type: 'issues', limit: 50 })).find(
        ours(groupMarker(gid, pending.nonce)),
      )
      await held.save(
        found
          ? {
              ...state,
              pending: undefined,
              issue: found.number,
              open: true,
              told: pending.told,
              labelled: pending.labelled,
            }
          : { ...state, pending: undefined },
      )
    } else if (pending?.kind === 'comment' && state.issue !== undefined) {
      const found = (await port.listComments(repo, state.issue)).some(
        ours(changeMarker(pending.key, pending.nonce)),
      )
      await held.save({ ...state, pending: undefined, ...(found && { told: pending.told }) })
    }
  }

  private async apply(gid: string, held: HeldGroup, state: GroupState, step: GroupStep): Promise<void> {
    const { port, repo } = this.opts
    const firing = Object.values(state.known).filter((a) => a.status === 'firing')
    switch (step.kind) {
      case 'open': {
        const told = toldAll(state)
        const ids = await this.labelIds(step.labels)
        const nonce = newNonce()
        await held.save({ ...state, pending: { kind: 'open', nonce, told, labelled: step.labels } })
        const issue = await port.createIssue(repo, {
          title: alertIssueTitle(state),
          body: alertIssueBody(groupMarker(gid, nonce), state, this.labelsOf(firing)),
          labels: ids,
        })
        await held.save({
          ...state,
          pending: undefined,
          issue: issue.number,
          open: true,
          told,
          labelled: step.labels,
        })
        return
      }
      case 'comment': {
        const told = toldAll(state)
        const nonce = newNonce()
        await held.save({ ...state, pending: { kind: 'comment', key: step.key, nonce, told } })
        await port.createComment(
          repo,
          state.issue as number,
          alertChangeComment(changeMarker(step.key, nonce), state, step, this.labelsOf(step.fired)),
        )
        await held.save({ ...state, pending: undefined, told })
        return
      }
      case 'settle':
        await held.save({ ...state, told: toldAll(state) })
        return
      case 'reopen':
      case 'close': {
        const open = step.kind === 'reopen'
        await port.editIssue(repo, state.issue as number, { state: open ? 'open' : 'closed' })
        await held.save({ ...state, open })
        return
      }
      case 'label': {
        await port.addIssueLabels(repo, state.issue as number, await this.labelIds(step.labels))
        await held.save({ ...state, labelled: [...state.labelled, ...step.labels] })
        return
      }
    }
  }

  /** The repository's ids of catalogue labels, creating the ones it lacks from the catalogue. */
  private async labelIds(names: readonly string[]): Promise<number[]> {
    const { port, repo } = this.opts
    if (names.length === 0) return []
    const have = new Map((await port.listLabels(repo)).map((l: GiteaLabel) => [l.name, l.id]))
    const ids: number[] = []
    for (const name of names) {
      let id = have.get(name)
      const entry = this.catalogue.find((l) => l.name === name)
      if (id === undefined && entry) {
        const { previously: _, ...input } = entry
        id = (await port.createLabel(repo, input)).id
        this.opts.log.info({ label: name }, 'created a missing catalogue label for an alert issue')
      }
      if (id !== undefined) ids.push(id)
    }
    return ids
  }
}
