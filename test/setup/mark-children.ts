// Runs in every test worker before its tests: the run's id goes into process.env, so every process a
// test starts (directly, or through code under test) inherits it; see test/helpers/leftovers.ts.
import { inject } from 'vitest'
import { TEST_RUN_VAR } from '../helpers/leftovers.js'

process.env[TEST_RUN_VAR] = inject('testRunId')
