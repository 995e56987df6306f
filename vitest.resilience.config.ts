import { defineConfig } from 'vitest/config'

// The resilience suite (`npm run test:resilience`): fault injection and fuzzing against real Redis,
// real HTTP and real child processes. Kept out of the unit run (vitest.config.ts excludes it) and
// bounded to a few minutes. Files run one at a time: each test is a load on its own, and on a
// shared 2-core machine running them side by side would only measure the contention.
export default defineConfig({
  test: {
    include: ['test/resilience/**/*.test.ts'],
    // The leftover check runs its teardown last: it fails the run when a test's process outlives it.
    globalSetup: ['test/setup/leftover-check.ts', 'test/setup/redis-global.ts'],
    setupFiles: ['test/setup/mark-children.ts'],
    testTimeout: 120_000,
    hookTimeout: 30_000,
    pool: 'forks',
    fileParallelism: false,
  },
})
