import type { LabelledIssue } from '../../../src/triage/model/read-examples.js'

const things = [
  'editor',
  'terminal',
  'parser',
  'exporter',
  'login page',
  'sync',
  'importer',
  'search',
  'cache',
  'plugin',
]
const templates: Record<string, string[]> = {
  bug: [
    '{t} crashes with an error',
    'exception thrown when opening the {t}',
    '{t} is broken after upgrade, fails to start',
  ],
  feature: [
    'add support for dark mode in the {t}',
    'please add an option to export the {t}',
    'allow configuring the {t}',
  ],
  question: ['how do I configure the {t}?', 'is there a way to use the {t} offline?', 'what is the {t} for?'],
}

/** A small deterministic labelled set: three labels, two repos, separable by wording. */
export function toyIssues(): LabelledIssue[] {
  const rows: LabelledIssue[] = []
  for (const [label, forms] of Object.entries(templates))
    things.forEach((t, i) =>
      rows.push({
        repo: i % 2 === 0 ? 'acme/app' : 'acme/lib',
        label,
        title: forms[i % forms.length]!.replace('{t}', t),
        body: forms[(i + 1) % forms.length]!.replace('{t}', t),
      }),
    )
  return rows
}
