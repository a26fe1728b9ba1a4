import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores on the reference machine: keep the pool small so worker-isolation tests are not starved.
    maxWorkers: 2,
  },
});
