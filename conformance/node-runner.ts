// A plain-node runner for the kit's suites (harness.ts), for phone makers who run the kit from
// the package without a test framework. Cases run one after another in the order declared,
// each describe block's beforeAll first and afterAll last (as vitest does); a beforeAll that
// fails fails every case of its block. Assertions are node:assert's. Output: one line per case
// (PASS / FAIL with the reason / SKIP with the reason), then the closing line
// `N passed, N failed, N skipped` alone on its line; the same counts come back as a result.
import { AssertionError } from 'node:assert';
import { isDeepStrictEqual, inspect } from 'node:util';
import type { Assertion, Expect, Expectation, Harness, Hook } from './harness.ts';

export type CaseStatus = 'passed' | 'failed' | 'skipped';
export interface CaseResult { name: string; status: CaseStatus; detail?: string }
export interface RunResult { passed: number; failed: number; skipped: number; cases: CaseResult[] }

export interface NodeRunOptions {
  /** Where the lines go (default: console.log). */
  out?: (line: string) => void;
  /** A case or hook that takes longer fails with a timeout (default 120 s, as the repository's
   * vitest config). A hung runtime must not hang the kit. */
  timeoutMs?: number;
}

interface Case { kind: 'case'; name: string; body?: () => unknown; skipReason?: string }
interface Block { kind: 'block'; name: string; items: (Block | Case)[]; before: Hook[]; after: Hook[] }

const show = (v: unknown) => inspect(v, { depth: 4, maxArrayLength: 20, maxStringLength: 200, breakLength: Infinity });

function fail(message: string | undefined, text: string, actual: unknown, expected: unknown, operator: string): never {
  throw new AssertionError({ message: message ? `${message}: ${text}` : text, actual, expected, operator });
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function matches(text: string, pattern?: RegExp | string): boolean {
  return pattern === undefined || (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
}

/** The kit's expect subset on node:assert's AssertionError. */
function makeAssertion(actual: unknown, message: string | undefined, negate: boolean): Assertion {
  const want = negate ? 'not ' : '';
  const judge = (pass: boolean, what: string, expected: unknown, operator: string) => {
    if (pass === negate) fail(message, `expected ${show(actual)} ${want}${what}`, actual, expected, operator);
  };
  return {
    toBe: (expected) => judge(Object.is(actual, expected), `to be ${show(expected)}`, expected, 'Object.is'),
    toEqual: (expected) => judge(isDeepStrictEqual(actual, expected), `to equal ${show(expected)}`, expected, 'deepStrictEqual'),
    toBeNull: () => judge(actual === null, 'to be null', null, 'strictEqual'),
    toBeInstanceOf: (cls) => judge(actual instanceof (cls as unknown as new () => unknown), `to be an instance of ${(cls as { name?: string }).name ?? 'the class'}`, cls, 'instanceof'),
    toContain: (item) => {
      const has = typeof actual === 'string' ? actual.includes(String(item)) : Array.isArray(actual) ? actual.includes(item) : false;
      judge(has, `to contain ${show(item)}`, item, 'includes');
    },
    toMatch: (pattern) => judge(typeof actual === 'string' && matches(actual, pattern), `to match ${show(pattern)}`, pattern, 'match'),
    toThrow: (pattern) => {
      if (typeof actual !== 'function') fail(message, 'toThrow needs a function', actual, pattern, 'throws');
      let thrown: unknown, threw = false;
      try { (actual as () => unknown)(); } catch (e) { threw = true; thrown = e; }
      const pass = threw && matches(errorText(thrown), pattern);
      if (pass === negate) fail(message, threw ? `expected the error ${show(errorText(thrown))} ${want}to match ${show(pattern)}` : `expected a throw${pattern ? ` matching ${show(pattern)}` : ''}`, thrown, pattern, 'throws');
    },
    toBeGreaterThanOrEqual: (n) => judge((typeof actual === 'number' || typeof actual === 'bigint') && actual >= n, `to be >= ${show(n)}`, n, '>='),
  };
}

export const nodeExpect: Expect = (actual: unknown, message?: string): Expectation => ({
  ...makeAssertion(actual, message, false),
  not: makeAssertion(actual, message, true),
  rejects: {
    async toThrow(pattern?: RegExp | string) {
      let rejected = false, reason: unknown;
      try { await actual; } catch (e) { rejected = true; reason = e; }
      if (!rejected) fail(message, `expected a rejection${pattern ? ` matching ${show(pattern)}` : ''}, it resolved`, actual, pattern, 'rejects');
      if (!matches(errorText(reason), pattern)) fail(message, `expected the rejection ${show(errorText(reason))} to match ${show(pattern)}`, reason, pattern, 'rejects');
    },
  },
});

async function withTimeout(fn: () => unknown, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms); });
  try {
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A harness that records the suites, and run() that executes them as described above. */
export function createNodeHarness(): { harness: Harness; run(options?: NodeRunOptions): Promise<RunResult> } {
  const root: Block = { kind: 'block', name: '', items: [], before: [], after: [] };
  let current = root;
  const harness: Harness = {
    describe(name, body) {
      const block: Block = { kind: 'block', name, items: [], before: [], after: [] };
      current.items.push(block);
      const parent = current;
      current = block;
      try { body(); } finally { current = parent; }
    },
    test(name, body) { current.items.push({ kind: 'case', name, body }); },
    skip(name, reason) { current.items.push({ kind: 'case', name, skipReason: reason }); },
    beforeAll(fn) { current.before.push(fn); },
    afterAll(fn) { current.after.push(fn); },
    expect: nodeExpect,
  };

  async function run(options: NodeRunOptions = {}): Promise<RunResult> {
    const out = options.out ?? ((line: string) => console.log(line));
    const timeoutMs = options.timeoutMs ?? 120_000;
    const cases: CaseResult[] = [];
    const oneLine = (s: string) => { const t = s.replace(/\s*\n\s*/g, ' '); return t.length > 400 ? `${t.slice(0, 400)}…` : t; };
    const report = (r: CaseResult) => {
      cases.push(r);
      out(r.status === 'passed' ? `PASS  ${r.name}` : `${r.status === 'failed' ? 'FAIL' : 'SKIP'}  ${r.name}: ${oneLine(r.detail ?? '')}`);
    };
    const path = (prefix: string, name: string) => (prefix ? `${prefix} › ${name}` : name);
    const failAll = (b: Block, prefix: string, why: string) => {
      for (const item of b.items) {
        if (item.kind === 'block') failAll(item, path(prefix, item.name), why);
        else report({ name: path(prefix, item.name), status: 'failed', detail: why });
      }
    };
    const runBlock = async (b: Block, prefix: string): Promise<void> => {
      let setupError: string | null = null;
      for (const h of b.before) {
        try { await withTimeout(h, timeoutMs); } catch (e) { setupError = `beforeAll failed: ${errorText(e)}`; break; }
      }
      if (setupError) failAll(b, prefix, setupError);
      else {
        for (const item of b.items) {
          if (item.kind === 'block') { await runBlock(item, path(prefix, item.name)); continue; }
          const name = path(prefix, item.name);
          if (item.skipReason !== undefined) { report({ name, status: 'skipped', detail: item.skipReason }); continue; }
          try {
            await withTimeout(item.body!, timeoutMs);
            report({ name, status: 'passed' });
          } catch (e) {
            report({ name, status: 'failed', detail: errorText(e) });
          }
        }
      }
      for (const h of b.after) {
        try { await withTimeout(h, timeoutMs); } catch (e) { report({ name: path(prefix, 'afterAll'), status: 'failed', detail: errorText(e) }); }
      }
    };
    await runBlock(root, '');
    const count = (s: CaseStatus) => cases.filter((c) => c.status === s).length;
    const result: RunResult = { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), cases };
    out(`${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped`);
    return result;
  }

  return { harness, run };
}
