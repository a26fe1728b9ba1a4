// npm run mutation's command line (test/mutation/args.ts): --mutate reaches Stryker and narrows
// the report to the modules mutated; other arguments pass through.
import { describe, expect, it } from 'vitest';
import { matchesMutate, splitMutateArgs } from './args.ts';

describe('splitMutateArgs', () => {
  const table: Array<[string[], string[], string[]]> = [
    [[], [], []],
    [['--mutate', 'a.ts'], ['a.ts'], []],
    [['--mutate', 'a.ts,b/c.ts', '--concurrency', '1'], ['a.ts', 'b/c.ts'], ['--concurrency', '1']],
    [['--mutate=a.ts', '-m', 'b.ts', '--partial'], ['a.ts', 'b.ts'], ['--partial']],
    [['--mutate', 'a.ts,', 'x.json'], ['a.ts'], ['x.json']],
  ];
  for (const [argv, patterns, rest] of table) it(JSON.stringify(argv), () => expect(splitMutateArgs(argv)).toEqual({ patterns, rest }));
  it('--mutate without a list is an error, not a file named "--concurrency"', () => {
    expect(() => splitMutateArgs(['--mutate'])).toThrow(/needs a file list/);
    expect(() => splitMutateArgs(['--mutate', '--concurrency', '1'])).toThrow(/needs a file list/);
  });
});

describe('matchesMutate', () => {
  const table: Array<[string, string, boolean]> = [
    ['backend/attestation/policy.ts', 'backend/attestation/policy.ts', true],
    ['./backend/attestation/policy.ts', 'backend/attestation/policy.ts', true],
    ['backend/attestation/policy.ts', 'backend/attestation/policy-x.ts', false],
    ['backend/attestation/policy.ts', 'xbackend/attestation/policy.ts', false],
    ['backend/attestation/policy.ts:14-20', 'backend/attestation/policy.ts', true],
    ['backend/attestation/policy.ts:14:1-20:3', 'backend/attestation/policy.ts', true],
    ['ree/emv/oda/*.ts', 'ree/emv/oda/cda.ts', true],
    ['ree/emv/oda/*.ts', 'ree/emv/oda/sub/cda.ts', false],
    ['ree/emv/oda/*.ts', 'ree/emv/odaXcda.ts', false],
    ['ree/**/*.ts', 'ree/emv/oda/cda.ts', true],
    ['ree/**/*.ts', 'ree/x.ts', true],
    ['ree/emv/outcome.?s', 'ree/emv/outcome.ts', true],
    ['ree/emv/oda/cda.ts', 'ree\\emv\\oda\\cda.ts', true],
  ];
  for (const [pattern, file, want] of table) it(`${pattern} ${want ? 'matches' : 'does not match'} ${file}`, () => expect(matchesMutate(pattern)(file)).toBe(want));
});
