// The tiny test harness the kit's suites are written against, so the same suites run under
// vitest (the repository's tests: test/conformance/vitest-harness.ts hands vitest's own
// functions over) and under plain node (node-runner.ts, what a phone maker runs from the
// package). Only what the kit uses: describe / test / skip / beforeAll / afterAll and this
// subset of expect. vitest's `expect` satisfies Expect as it is.

/** The assertions the kit makes. `message` names what is checked when it fails. */
export interface Assertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeNull(): void;
  toBeInstanceOf(cls: abstract new (...args: never[]) => unknown): void;
  toContain(item: unknown): void;
  toMatch(pattern: RegExp | string): void;
  toThrow(pattern?: RegExp | string): void;
  toBeGreaterThanOrEqual(n: number | bigint): void;
}
export interface Expectation extends Assertion {
  not: Assertion;
  rejects: { toThrow(pattern?: RegExp | string): Promise<void> };
}
export type Expect = (actual: unknown, message?: string) => Expectation;

export type Hook = () => unknown | Promise<unknown>;

export interface Harness {
  describe(name: string, body: () => void): void;
  test(name: string, body: () => unknown | Promise<unknown>): void;
  /** A case that does not apply to this runtime, reported as skipped with the reason. */
  skip(name: string, reason: string): void;
  beforeAll(fn: Hook): void;
  afterAll(fn: Hook): void;
  expect: Expect;
}
