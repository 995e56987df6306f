import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/resilience/**', 'node_modules/**'],
    // The leftover check runs its teardown last: it fails the run when a test's process outlives it.
    globalSetup: ['test/setup/leftover-check.ts', 'test/setup/redis-global.ts'],
    setupFiles: ['test/setup/mark-children.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
