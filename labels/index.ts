export * from './catalogue.js'
export * from './names.js'
export * from './plan-label-sync.js'
export * from './triage-rules.js'
