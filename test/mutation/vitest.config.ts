// The vitest configuration Stryker runs (npm run mutation): only the test files that pin the
// decision-making modules (modules.json), so a run fits in minutes on two shared cores. npm test
// does not use it (the root vitest.config.ts runs everything).
import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const { tests } = JSON.parse(readFileSync(new URL('./modules.json', import.meta.url), 'utf8')) as { tests: string[] };

export default defineConfig({
  test: {
    include: tests,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
