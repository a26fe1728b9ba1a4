// The kit's harness (conformance/harness.ts) on vitest's own functions: the repository's tests
// run the kit's suites exactly as they run any other vitest suite.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import type { Harness } from '../../conformance/harness.ts';

export const vitestHarness: Harness = {
  describe: (name, body) => describe(name, body),
  test: (name, body) => test(name, async () => { await body(); }),
  // the reason is kept in the name, so vitest's report says why the case did not run
  skip: (name, reason) => test.skip(`${name} (skipped: ${reason})`, () => {}),
  beforeAll: (fn) => beforeAll(async () => { await fn(); }),
  afterAll: (fn) => afterAll(async () => { await fn(); }),
  expect,
};
