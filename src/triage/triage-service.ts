import { scopeOf } from '../../labels/catalogue.js'
import { Labels, TYPE_LABELS, typeClass, type LabelName, type TypeLabel } from '../../labels/names.js'
import { loadTriageRules, type TriageRules } from '../../labels/triage-rules.js'
import type { GiteaPort, RepoRef } from '../gitea/port.js'
import type { Logger } from '../logger.js'
import { decideTriage, type TriageDecision } from './model/decide-triage.js'
import { houseByRules, priorityByRules } from './model/rules-decisions.js'
import type { Effect } from '../effects/effects.js'
import type { TriageEngine, TriageRequest } from '../router/event-handler.js'
import type { LabelChangeRequest } from '../commands-core/command-spec.js'
import { planTriageLabels } from './plan-triage-labels.js'
import { renderTriageComment } from './render-triage-comment.js'
import type { RepoModels } from './repo-models.js'
import type { TriageConfig } from './triage-config.js'
import { repoKey, type TriageStore } from './triage-store.js'
import { type TriageRecord } from './triage-record.js'

export interface TriageServiceDeps {
  port: GiteaPort
  store: TriageStore
  models: RepoModels
  config: TriageConfig
  /** Default: labels/triage-rules.yaml, with `threshold` and `minExamples` from `config`. */
  rules?: TriageRules
  log?: Logger
  now?: () => Date
}

const TYPES = new Set<string>(TYPE_LABELS)

function isTypeLabel(name: string): name is TypeLabel {
  return TYPES.has(name)
}

/**
 * The idempotency key of an issue's one triage comment: the same for the opening and every
 * `/triage`, so the executor posts it at most once per issue.
 *
 * @example
 *   triageCommentKey({ owner: 'alice', name: 'demo' }, 1) // 't:alice_demo:1:triage'
 */
export function triageCommentKey(repo: RepoRef, issue: number): string {
  return `t:${`${repo.owner}_${repo.name}`.replace(/[^A-Za-z0-9_.]/g, '_')}:${issue}:triage`
}

/**
 * Triage over the Gitea port: decides type, priority, house (and size for pull requests) from
 * the issue as Gitea has it now, never touches a scope a person already set, and returns the
 * effects (labels, one comment, the record) for the executor. Also learns from people's type
 * corrections. Implements `TriageService` for `/triage` and `TriageEngine` for issue events.
 *
 * @example
 *   const store = new RedisTriageStore(redis)
 *   const triage = new GiteaTriageService({ port, store, models: new RepoModels(store), config: config.file.triage })
 *   await executor.apply(await triage.triage({ repo, issue: 7, requester: 'bob', deliveryId, commentId: undefined }))
 */
export class GiteaTriageService implements TriageEngine {
  private readonly rules: TriageRules
  private readonly now: () => Date

  constructor(private readonly deps: TriageServiceDeps) {
    const base = deps.rules ?? loadTriageRules()
    this.rules = {
      ...base,
      confidenceThreshold: deps.config.threshold ?? base.confidenceThreshold,
      minExamples: deps.config.minExamples ?? base.minExamples,
    }
    this.now = deps.now ?? (() => new Date())
  }

  async triage(request: TriageRequest): Promise<Effect[]> {
    const { port, store, models, config } = this.deps
    const { repo } = request
    const [issue, model, previous] = await Promise.all([
      port.getIssue(repo, request.issue),
      models.get(repo),
      store.getRecord(repo, request.issue),
    ])
    const pr = issue.isPull ? await this.pullDetails(repo, request.issue) : undefined
    const current = issue.labels.map((l) => l.name)
    const text = { title: issue.title, body: issue.body }
    const decision = decideTriage({ ...text, isPull: issue.isPull, ...pr }, model, this.rules)
    const wanted = this.wantedLabels(decision, current, text)

    const plan = planTriageLabels(
      wanted.map((w) => w.label),
      current,
      previous?.applied ?? [],
    )
    if (plan.add.length === 0 && plan.remove.length === 0 && previous) return []

    const reasonsOf = new Map<string, string[]>(wanted.map((w) => [w.label, w.reasons]))
    const explained = plan.add.map((label) => ({ label, reasons: reasonsOf.get(label) ?? [] }))
    const effects: Effect[] = []
    if (plan.add.length > 0) effects.push({ type: 'addLabels', repo, issue: request.issue, labels: plan.add })
    if (plan.remove.length > 0)
      effects.push({ type: 'removeLabels', repo, issue: request.issue, labels: plan.remove })
    const comment = config.comment && plan.add.length > 0
    if (comment) {
      const key = triageCommentKey(repo, request.issue)
      const body = renderTriageComment(
        explained,
        plan.kept.filter((k) => !k.byBot).map((k) => k.label),
      )
      effects.push({ type: 'comment', repo, issue: request.issue, key, body })
      // A later run that adds labels updates the one comment instead of posting another.
      if (previous?.commented) effects.push({ type: 'editComment', repo, target: { key }, body })
    }
    const botType = plan.add.find(isTypeLabel) ?? previous?.botType ?? null
    const applied = [...new Set([...(previous?.applied ?? []), ...plan.add])].filter(
      (l) => !plan.remove.includes(l),
    )
    const record: TriageRecord = {
      repo: repoKey(repo),
      issue: request.issue,
      at: this.now().toISOString(),
      deliveryId: request.deliveryId,
      trigger: request.trigger ?? `/triage by ${request.requester}`,
      applied,
      botType,
      decision: {
        type: decision.type ?? null,
        priority: decision.priority,
        house: decision.house,
        size: decision.size ?? null,
        confidence: decision.confidence,
        needsTriage: decision.needsTriage,
        typeSource: decision.typeSource,
      },
      reasons: {
        ...previous?.reasons,
        ...Object.fromEntries(explained.map((e) => [e.label, [...e.reasons]])),
      },
      commented: (previous?.commented ?? false) || comment,
      learnedType: previous?.learnedType ?? null,
    }
    effects.push({ type: 'recordTriage', record })
    return effects
  }

  async learnFromLabels(request: LabelChangeRequest): Promise<Effect[]> {
    const { port, store, models, log } = this.deps
    const { repo } = request
    const record = await store.getRecord(repo, request.issue)
    // Only issues the bot triaged: elsewhere there is no bot decision to correct.
    if (!record) return []
    const issue = await port.getIssue(repo, request.issue)
    if (issue.isPull) return []
    const current = issue.labels.map((l) => l.name)
    const types = request.typeLabel ? [request.typeLabel].filter(isTypeLabel) : current.filter(isTypeLabel)
    const human = types.length === 1 ? types[0]! : undefined
    if (!human || human === record.botType || human === record.learnedType) return []

    const example = { title: issue.title, body: issue.body, label: typeClass(human) }
    const examples = await store.putExample(repo, request.issue, example)
    const model = await models.learn(repo, [example])
    await store.putRecord({ ...record, learnedType: human })
    log?.info(
      { repo: repoKey(repo), issue: request.issue, from: record.botType, to: human, examples },
      'learnt from a type correction',
    )
    const effects: Effect[] = [
      {
        type: 'log',
        level: 'info',
        message: 'triage learnt from a correction',
        data: { repo: repoKey(repo), issue: request.issue, label: human, modelExamples: model.exampleCount },
      },
    ]
    // The bot was unsure and a person settled it: its own needs-triage becomes triaged.
    const status = planTriageLabels([Labels.STATUS_TRIAGED], current, record.applied)
    if (status.add.length > 0)
      effects.push({ type: 'addLabels', repo, issue: request.issue, labels: status.add })
    if (status.remove.length > 0)
      effects.push({ type: 'removeLabels', repo, issue: request.issue, labels: status.remove })
    if (status.add.length > 0)
      effects.push({
        type: 'recordTriage',
        record: {
          ...record,
          learnedType: human,
          applied: [...record.applied.filter((l) => !status.remove.includes(l)), ...status.add],
        },
      })
    return effects
  }

  /** Line counts always; changed paths where the server lists them (older ones may not). */
  private async pullDetails(
    repo: RepoRef,
    index: number,
  ): Promise<{ additions: number; deletions: number; changedPaths?: string[] }> {
    const pr = await this.deps.port.getPullRequest(repo, index)
    try {
      const files = await this.deps.port.listPullRequestFiles(repo, index)
      return { additions: pr.additions, deletions: pr.deletions, changedPaths: files.map((f) => f.filename) }
    } catch (err) {
      this.deps.log?.warn({ err, repo: repoKey(repo), index }, 'changed files unavailable; typing by text')
      return { additions: pr.additions, deletions: pr.deletions }
    }
  }

  /**
   * The labels the bot would set, with reasons. When a person already set the type, priority and
   * house are decided for that type, and the status is `triaged` (the type is known).
   */
  private wantedLabels(
    decision: TriageDecision,
    current: readonly string[],
    text: { title: string; body: string },
  ): { label: LabelName; reasons: string[] }[] {
    const personType = current.filter(isTypeLabel)
    const fixedType = personType.length === 1 ? personType[0] : undefined
    const hasType = current.some((c) => scopeOf(c) === 'type')
    const priority = fixedType
      ? priorityByRules(text, fixedType, this.rules)
      : { label: decision.priority, reasons: decision.reasons.priority }
    const house = fixedType
      ? houseByRules(text, fixedType, this.rules)
      : { label: decision.house, reasons: decision.reasons.house }
    const out: { label: LabelName; reasons: string[] }[] = []
    if (decision.type && !decision.needsTriage)
      out.push({
        label: decision.type,
        reasons: [
          ...decision.reasons.type,
          `confidence ${decision.confidence.toFixed(2)} (${decision.typeSource})`,
        ],
      })
    out.push({ label: priority.label, reasons: priority.reasons })
    out.push({ label: house.label, reasons: house.reasons })
    if (decision.size) out.push({ label: decision.size, reasons: decision.reasons.size })
    const known = hasType || !decision.needsTriage
    out.push(
      known
        ? {
            label: Labels.STATUS_TRIAGED,
            reasons: [
              hasType && decision.needsTriage ? 'type set by a person' : 'type, priority and house set',
            ],
          }
        : { label: Labels.STATUS_NEEDS_TRIAGE, reasons: decision.reasons.type.slice(-1) },
    )
    return out
  }
}
