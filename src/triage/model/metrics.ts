/** Precision, recall and F1 of one label, with its support (true count). */
export interface LabelScores {
  precision: number
  recall: number
  f1: number
  support: number
}

export interface ClassificationReport {
  macroF1: number
  accuracy: number
  labels: Record<string, LabelScores>
}

/**
 * Per-label precision/recall/F1 and their macro F1 over the labels present in `truth` (a label
 * only predicted, never true, counts as a false positive for the others but is not averaged,
 * matching scikit-learn's `labels=` behaviour on the NLBSE protocol).
 *
 * @example
 * classificationReport(['bug', 'question'], ['bug', 'bug']).macroF1 // 0.333...
 */
export function classificationReport(
  truth: readonly string[],
  predicted: readonly string[],
): ClassificationReport {
  const labels = [...new Set(truth)].sort()
  const out: Record<string, LabelScores> = {}
  let correct = 0
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) correct++
  for (const label of labels) {
    let tp = 0
    let fp = 0
    let fn = 0
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i] === label
      const p = predicted[i] === label
      if (t && p) tp++
      else if (p) fp++
      else if (t) fn++
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp)
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn)
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
    out[label] = { precision, recall, f1, support: tp + fn }
  }
  const f1s = labels.map((l) => out[l]!.f1)
  return {
    macroF1: f1s.length === 0 ? 0 : f1s.reduce((a, b) => a + b, 0) / f1s.length,
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    labels: out,
  }
}
