import { describe, expect, it } from 'vitest'
import { cleanText } from '../../../src/triage/model/clean-text.js'
import { featurize, type FeatureNames } from '../../../src/triage/model/hash-features.js'
import { classificationReport } from '../../../src/triage/model/metrics.js'
import { TriageModel } from '../../../src/triage/model/triage-model.js'
import { toyIssues } from './toy-data.js'

const rows = toyIssues()
const fast = { sgd: { epochs: 10, learningRate: 0.5, l2: 1e-4, seed: 3 }, features: { bits: 16 } }

describe('cleanText', () => {
  it('replaces code, URLs and versions by markers and drops template noise', () => {
    expect(cleanText('Crash in v1.2.3 <!-- hint -->\n```\nstack\n```\nsee https://x.y/z _No response_')).toBe(
      'crash in xxversion xxcode see xxurl',
    )
  })
})

describe('TriageModel', () => {
  it('learns a separable toy set', () => {
    const model = TriageModel.train(rows, { options: fast })
    expect(model.classes).toEqual(['bug', 'feature', 'question'])
    expect(model.exampleCount).toBe(rows.length)
    expect(model.predict('the uploader crashes with an exception').label).toBe('bug')
    expect(model.predict('please add an option to export reports').label).toBe('feature')
    expect(model.predict('how do I configure proxies?').label).toBe('question')
    const report = classificationReport(
      rows.map((r) => r.label),
      rows.map((r) => model.predict(r).label),
    )
    expect(report.macroF1).toBe(1)
  })

  it('gives reasons that name real features, strongest first', () => {
    const p = TriageModel.train(rows, { options: fast }).predict('the parser crashes with an exception', {
      reasons: 3,
    })
    expect(p.reasons).toHaveLength(3)
    expect(p.reasons[0]!.weight).toBeGreaterThanOrEqual(p.reasons[2]!.weight)
    expect(p.reasons.map((r) => r.feature).join(' ')).toMatch(/crash|exception/)
    expect(p.confidence).toBeCloseTo(Math.max(...Object.values(p.scores)))
  })

  it('round-trips through serialize/deserialize with identical predictions', () => {
    const model = TriageModel.train(rows, { options: fast })
    const copy = TriageModel.deserialize(model.serialize())
    for (const r of rows) expect(copy.predict(r)).toEqual(model.predict(r))
    expect(copy.version).toBe(model.version)
    expect(copy.exampleCount).toBe(model.exampleCount)
  })

  it('adapts on top of a prior, maps type labels, and needs that prior to deserialize', () => {
    const prior = TriageModel.train(rows, { options: fast })
    const repo = TriageModel.train(
      rows.filter((r) => r.repo === 'acme/app').map((r) => ({ ...r, label: `type/${r.label}` })),
      { prior, options: { sgd: fast.sgd } },
    )
    expect(repo.classes).toEqual(['bug', 'feature', 'question'])
    const text = repo.serialize()
    expect(() => TriageModel.deserialize(text)).toThrow(/prior/)
    const other = TriageModel.train(rows.slice(0, 20), { options: fast })
    expect(() => TriageModel.deserialize(text, { prior: other })).toThrow(/not the one/)
    const copy = TriageModel.deserialize(text, { prior })
    for (const r of rows) expect(copy.predict(r)).toEqual(repo.predict(r))
  })

  it('keeps predictions close after i8 quantisation', () => {
    const model = TriageModel.train(rows, { options: fast })
    const copy = TriageModel.deserialize(model.serialize('i8'))
    for (const r of rows) expect(copy.predict(r).label).toBe(model.predict(r).label)
  })

  it('is deterministic for a seed', () => {
    const a = TriageModel.train(rows, { options: fast }).serialize()
    const b = TriageModel.train(rows, { options: fast }).serialize()
    expect(a).toBe(b)
  })

  it('updates incrementally with a new class and bumps the version', () => {
    const model = TriageModel.train(rows, { options: fast })
    const docs = [
      'typo in the readme',
      'documentation for the cache is outdated',
      'readme install section is wrong',
    ].map((title) => ({ title, body: 'docs readme documentation', label: 'type/docs' }))
    const updated = model.update([...docs, ...docs, ...docs])
    expect(updated.classes).toEqual(['bug', 'docs', 'feature', 'question'])
    expect(updated.version).toBe(model.version + 1)
    expect(updated.exampleCount).toBe(model.exampleCount + 9)
    expect(updated.predict({ title: 'readme documentation typo', body: 'docs' }).label).toBe('docs')
    expect(model.classes).toHaveLength(3)
  })

  it('weights words by idf of its training set, and keeps it through serialisation', () => {
    const options = { ...fast, features: { ...fast.features, idfPower: 1 } }
    const model = TriageModel.train(rows, { options })
    const idf = model.idf()!
    const bucket = (word: string): number => {
      const names: FeatureNames = new Map()
      featurize({ title: '', body: word }, model.options.features, names)
      return [...names].find(([, name]) => name === word)![0]
    }
    // "the" is in most toy issues, "upgrade" in a few, "zebra" in none.
    expect(idf[bucket('the')]).toBeLessThan(idf[bucket('upgrade')]!)
    expect(idf[bucket('upgrade')]).toBeLessThan(idf[bucket('zebra')]!)
    expect(TriageModel.train(rows, { options: fast }).idf()).toBeUndefined()
    for (const precision of ['f32', 'i8'] as const) {
      const copy = TriageModel.deserialize(model.serialize(precision))
      expect(copy.idf()).toEqual(idf)
      for (const r of rows) expect(copy.predict(r).label).toBe(model.predict(r).label)
    }
    // A repo model on top featurises with the prior's idf, and so does its copy.
    const repo = TriageModel.train(rows.slice(0, 12), { prior: model, options: { sgd: fast.sgd } })
    expect(repo.idf()).toBe(idf)
    const copy = TriageModel.deserialize(repo.serialize(), { prior: model })
    for (const r of rows) expect(copy.predict(r)).toEqual(repo.predict(r))
  })

  it('reads models saved before idf existed as models without idf', () => {
    const model = TriageModel.train(rows, { options: fast })
    const old = JSON.parse(model.serialize()) as { options: { features: Record<string, unknown> } }
    delete old.options.features.idfPower
    const copy = TriageModel.deserialize(JSON.stringify(old))
    expect(copy.options.features.idfPower).toBe(0)
    for (const r of rows) expect(copy.predict(r)).toEqual(model.predict(r))
  })

  it('with domain copies keeps only shared weights: a cue of one repo moves into its copy', () => {
    // "crash" means bug in both repos; "zork" only in repo a's bugs (its habit, not a general cue).
    const issue = (repo: string, label: string, title: string) => ({ repo, label, title, body: '' })
    const data = ['a', 'b'].flatMap((repo) =>
      Array.from({ length: 8 }, (_, i) => [
        issue(repo, 'bug', `crash ${repo === 'a' ? 'zork' : 'when'} saving ${i}`),
        issue(repo, 'feature', `please add export ${i}`),
        issue(repo, 'question', `how do I configure ${i}`),
      ]).flat(),
    )
    const plain = TriageModel.train(data, { options: fast })
    const shared = TriageModel.train(data, { options: { ...fast, domainCopy: 1 } })
    const bug = (m: TriageModel, title: string): number => m.predict(title).scores['bug']!
    expect(bug(shared, 'zork')).toBeLessThan(bug(plain, 'zork') - 0.02)
    expect(bug(shared, 'crash')).toBeGreaterThan(0.5)
    // Same rows as a plain model (the copies are dropped), and it round-trips.
    expect(shared.serialize().length).toBeLessThan(plain.serialize().length * 1.1)
    const copy = TriageModel.deserialize(shared.serialize())
    expect(copy.options.domainCopy).toBe(1)
    for (const r of data) expect(copy.predict(r)).toEqual(shared.predict(r))
    // One repo (or none named): nothing to separate, so the same model as without copies.
    const one = data.filter((r) => r.repo === 'a')
    expect(TriageModel.train(one, { options: { ...fast, domainCopy: 1 } }).predict('zork crash')).toEqual(
      TriageModel.train(one, { options: fast }).predict('zork crash'),
    )
  })

  it('refuses to train on nothing', () => {
    expect(() => TriageModel.train([])).toThrow(/at least one/)
  })
})
