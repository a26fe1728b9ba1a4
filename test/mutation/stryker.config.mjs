// Stryker (npm run mutation, issue 18): mutates the decision-making modules in modules.json and
// runs only their test files (vitest.config.ts here), per test (coverageAnalysis perTest), so a
// mutant runs only the tests that reach it. The JSON report is what report.ts prints.
import { readFileSync } from 'node:fs';

const { modules } = JSON.parse(readFileSync(new URL('./modules.json', import.meta.url), 'utf8'));

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
  mutate: modules,
  coverageAnalysis: 'perTest',
  // Static mutants (module-level tables and constants: DEFAULT_LIMITS, the CPM formats, the
  // network IDs, regular expressions) would each rerun every test file — 43 % of the run for 7 %
  // of the mutants. They are reported as ignored; the tables are pinned by value in the tests.
  ignoreStatic: true,
  plugins: ['@stryker-mutator/vitest-runner', './test/mutation/ignore-messages.mjs', './test/mutation/stream-reporter.mjs'],
  ignorers: ['typed-error-messages'],
  concurrency: 4,
  // A mutant that loops forever (a parser's index no longer advancing) is cut off soon.
  timeoutMS: 10_000,
  // Reuse the results of mutants whose code and covering tests did not change since the last run.
  incremental: true,
  incrementalFile: '.data/mutation/incremental.json',
  reporters: ['json', 'clear-text', 'progress', 'stream'],
  jsonReporter: { fileName: '.data/mutation/mutation.json' },
  clearTextReporter: { reportMutants: false, reportScoreTable: true },
  // vitest does not type-check, so no '// @ts-nocheck' is needed; and the tsconfig rewriting
  // needs the TypeScript JS API, which TypeScript 7 (the native compiler) does not have.
  disableTypeChecks: false,
  tsconfigFile: 'test/mutation/no-tsconfig.json',
  tempDirName: '.tmp/stryker',
  ignorePatterns: ['.data', 'dist', 'coverage', 'build/out', '.tmp'],
  cleanTempDir: true,
  thresholds: { high: 85, low: 75, break: null },
};
