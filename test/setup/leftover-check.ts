import { randomUUID } from 'node:crypto'
import type { TestProject } from 'vitest/node'
import { describeLeftovers, reapLeftovers } from '../helpers/leftovers.js'

declare module 'vitest' {
  export interface ProvidedContext {
    testRunId: string
  }
}

/**
 * Gives the run an id (test/setup/mark-children.ts marks every child with it) and, at the end,
 * fails the run when a process carrying it is still alive, naming and killing each one.
 */
export default function setup(project: TestProject) {
  const runId = randomUUID()
  project.provide('testRunId', runId)
  return async () => {
    const left = await reapLeftovers(runId)
    if (left.length > 0) throw new Error(describeLeftovers(left))
  }
}
