// A user's mistake is one typed line, never a stack trace: missing files for read-card --replay
// and verify-evidence (spawned, as a user runs them), and the rest of their option checks.
import { test, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as readCard } from '../../cli/commands/read-card.ts';
import { run as verifyEvidence } from '../../cli/commands/verify-evidence.ts';
import { runCaptured, spawnCli, STACK } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'tt-cli-err-'));

test('read-card --replay of a missing file: one line, exit 2', async () => {
  const r = await spawnCli(['read-card', '--replay', join(dir, 'nope.json')]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim()).toBe(`trusttap read-card: capture ${join(dir, 'nope.json')} does not exist`);
  expect(r.stderr).not.toMatch(STACK);
});

test('verify-evidence with a missing evidence file or manifest: one line, exit 2', async () => {
  const r = await spawnCli(['verify-evidence', join(dir, 'nope.bin'), '--manifest', 'build/manifest.json']);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(`trusttap verify-evidence: evidence file ${join(dir, 'nope.bin')} does not exist`);
  expect(r.stderr).not.toMatch(STACK);
  writeFileSync(join(dir, 'e.hex'), 'abcd');
  const m = await runCaptured(verifyEvidence, [join(dir, 'e.hex'), '--manifest', join(dir, 'no-manifest.json')]);
  expect([m.code, m.stderr]).toEqual([2, `trusttap verify-evidence: manifest ${join(dir, 'no-manifest.json')} does not exist`]);
});

test.each([
  [readCard, [], 'give one of --replay FILE.json or --sim CARD'],
  [readCard, ['--sim', 'visa', '--replay', 'x.json'], 'give one of --replay FILE.json or --sim CARD'],
  [readCard, ['--sim', 'amex'], "--sim must be visa, mastercard, unionpay or unionpay-sm (got 'amex')"],
  [readCard, ['--sim', 'visa', '--un', '0102'], '--un must be 4 bytes of hex'],
  [readCard, ['--sim', 'visa', '--amount', '12.50'], "--amount is in minor units, a whole number (got '12.50')"],
  [readCard, ['--sim', 'visa', '--date', '2025-11-25'], "--date is YYMMDD (got '2025-11-25')"],
  [readCard, ['--sim', 'visa', '--config', 'c.json'], '--config needs --config-key'],
  [verifyEvidence, [], 'which evidence file? (trusttap verify-evidence FILE --manifest build/manifest.json)'],
  [verifyEvidence, ['e.bin'], '--manifest FILE is required'],
  [verifyEvidence, ['e.bin', '--manifest', 'm.json', '--nonce', 'xyz'], '--nonce must be hex'],
  [verifyEvidence, ['e.bin', '--manifest'], '--manifest needs a value (FILE)'],
])('%#: usage error, exit 2: %s', async (run, args, message) => {
  const r = await runCaptured(run, args as string[]);
  expect(r.code).toBe(2);
  expect(r.stderr.split('\n')[0]).toBe(`trusttap ${run === readCard ? 'read-card' : 'verify-evidence'}: ${message}`);
});
