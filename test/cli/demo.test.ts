// `trusttap demo` as a user meets it: every option checked with a clear message and exit 2,
// exit 1 for anything but an approval, only the JSON line on stdout with --json (also through
// npm and its predemo build), a typed failure for an unreachable back end, and no temporary
// directory left behind unless --keep.
import { test, expect } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, parseAmount } from '../../cli/commands/demo.ts';
import { runCaptured, spawnCli, STACK } from './cli.ts';

test.each([
  [['--isolation', 'thread'], "--isolation must be in-process or worker (got 'thread')"],
  [['--amount', '1.234'], '--amount 1.234 has more decimals than CNY has (2)'],
  [['--currency', 'JPY', '--amount', '100.5'], '--amount 100.5 has more decimals than JPY has (0)'],
  [['--amount', '0'], '--amount must be more than zero'],
  [['--amount', '0.00'], '--amount must be more than zero'],
  [['--amount', '-5'], "--amount must be a number in major units such as 12.34 (got '-5')"],
  [['--amount', '12,34'], "--amount must be a number in major units such as 12.34 (got '12,34')"],
  [['--amount'], '--amount needs a value (12.34)'],
  [['--currency', 'XYZ'], "unknown currency 'XYZ' (an ISO 4217 code such as CNY, USD, EUR, GBP, HKD or JPY)"],
  [['--card', 'amex'], '--card must be unionpay, visa, visa-cvn22, mastercard, mastercard-wallet, unionpay-sm, unionpay-sm-wrong-key, unionpay-low-balance, visa-blocked or unionpay-expired (got \'amex\')'],
  [['--scenario', 'moon'], "--scenario must be none, rooted, hooked, wrong-pin, over-limit, card-removed, lost-answer, offline, relay, see-phone or tampered-client (got 'moon')"],
  [['--scenario', 'offline', '--backend', 'http://127.0.0.1:8443'], "scenario offline stops and restarts the back end: it runs only on the demo's own (no --backend)"],
  [['--scenario', 'relay', '--card', 'visa'], '--scenario relay needs a Mastercard card (Kernel 2 relay resistance): --card mastercard'],
  [['--scenario', 'see-phone', '--card', 'mastercard'], '--scenario see-phone needs the phone wallet: --card mastercard-wallet'],
  [['--qr', 'both'], "--qr must be merchant or consumer (got 'both')"],
  [['--pin', '12'], '--pin is 4 to 12 digits'],
  [['--acquirer', 'Bank B'], '--acquirer: an acquirer id is 2..32 characters of [a-z0-9-], starting with a letter or digit'],
  [['--backend', 'localhost:8443'], "--backend must be an http(s) URL such as http://127.0.0.1:8443 (got 'localhost:8443')"],
  [['--colour', 'red'], 'unknown option --colour'],
  [['extra'], "unexpected argument 'extra'"],
])('demo %j: usage error (exit 2): %s', async (args, message) => {
  const r = await runCaptured(run, args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(`trusttap demo: ${message}\n(see trusttap demo --help)`);
});

test('--acquirer: a payment for a second, configured acquirer end to end (issue 16 §1)', async () => {
  const r = await runCaptured(run, ['--acquirer', 'bank-b', '--card', 'visa', '--currency', 'USD', '--amount', '4.00', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect([out.outcome, out.acquirer]).toEqual(['approved', 'bank-b']);
  expect(out.merchantId).toBe('M-BANKB-1'); // bank-b's merchant, on bank-b's terminal
});

test('amounts are converted exactly, with the currency\'s decimals', () => {
  expect(parseAmount('1288', 'CNY', 2)).toBe(128800);
  expect(parseAmount('0.07', 'USD', 2)).toBe(7);
  expect(parseAmount('1.1', 'EUR', 2)).toBe(110);
  expect(parseAmount('1500', 'JPY', 0)).toBe(1500);
  expect(parseAmount('19.99', 'USD', 2)).toBe(1999); // 19.99 * 100 is 1998.9999… in floating point
});

test('declined → exit 1, approved → exit 0', async () => {
  const declined = await runCaptured(run, ['--scenario', 'wrong-pin', '--json']);
  expect(declined.code).toBe(1);
  expect(JSON.parse(declined.stdout).outcome).toBe('declined');
  const approved = await runCaptured(run, ['--card', 'visa', '--currency', 'USD', '--amount', '5.00', '--json']);
  expect(approved.code).toBe(0);
  expect(JSON.parse(approved.stdout).outcome).toBe('approved');
});

test('--scenario tampered-client: the acquirer refuses the altered client (ALTERED), a monitoring event; exit 1', async () => {
  const r = await runCaptured(run, ['--scenario', 'tampered-client']);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/allowed client trusttap-client \S+ \(sha256 [0-9a-f]{16}…, from the signed manifest\)/);
  expect(r.stdout).toMatch(/the app's client: trusttap-client \S+, bundle sha256 [0-9a-f]{16}… \(ALTERED/);
  expect(r.stdout).toMatch(/2\. enrolment refused: the acquirer refused the client \(ALTERED\)/);
  expect(r.stdout).toMatch(/acquirer monitoring \(device dev-[0-9a-f]+\): THREAT_ALERT — enrolment client refused \(altered\)/);
  expect(r.stdout).toMatch(/5\. FAILED: CLIENT_NOT_ALLOWED — client refused \(altered\)/);
  const j = await runCaptured(run, ['--scenario', 'tampered-client', '--json']);
  expect(JSON.parse(j.stdout)).toMatchObject({ outcome: 'failed', reason: 'CLIENT_NOT_ALLOWED', httpStatus: 403 });
});

test('an unreachable back end: BACKEND_UNREACHABLE, exit 1, one JSON line, no stack', async () => {
  const state = join(mkdtempSync(join(tmpdir(), 'tt-cli-state-')), 'cards.json');
  const r = await runCaptured(run, ['--backend', 'http://127.0.0.1:1', '--admin-token', 'x', '--card-state', state, '--json']);
  expect(existsSync(state)).toBe(false); // no card was read: no counter to keep
  expect(r.code).toBe(1);
  const j = JSON.parse(r.stdout);
  expect([j.outcome, j.reason]).toEqual(['failed', 'BACKEND_UNREACHABLE']);
  expect(j.message).toMatch(/^the acquirer is unreachable/);
  expect(j.remedy).toMatch(/check the network and the back-end address/);
  expect(r.stderr).not.toMatch(STACK);
});

test('`npm run -s demo -- --json`: stdout is only the JSON line, the predemo build goes to stderr', async () => {
  const r = await spawnCli(['run', '-s', 'demo', '--', '--json', '--card', 'visa', '--currency', 'USD', '--amount', '3.00'], { cmd: 'npm' });
  expect(r.code).toBe(0);
  const lines = r.stdout.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ outcome: 'approved', card: 'visa', amount: 300, currency: 'USD' });
  expect(r.stderr).toMatch(/manifest\.json signed by/); // the build ran, and said so on stderr
  expect(r.stderr).toMatch(/built \d+ TA file\(s\)/);
}, 120_000);

test('the temporary directory is removed at exit; --keep keeps it and says where', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tt-cli-tmp-'));
  // tsx keeps its compile cache there too (tsx-<uid>): only what the demo made counts.
  const ours = () => readdirSync(tmp).filter((f) => !f.startsWith('tsx-'));
  try {
    const r = await spawnCli(['demo', '--json', '--card', 'visa', '--currency', 'USD', '--amount', '2.00'], { env: { TMPDIR: tmp } });
    expect(r.code).toBe(0);
    expect(ours()).toEqual([]);
    const failed = await spawnCli(['demo', '--json', '--scenario', 'rooted'], { env: { TMPDIR: tmp } });
    expect(failed.code).toBe(1);
    expect(ours()).toEqual([]);
    const kept = await spawnCli(['demo', '--json', '--keep', '--card', 'visa', '--currency', 'USD', '--amount', '2.00'], { env: { TMPDIR: tmp } });
    expect(kept.code).toBe(0);
    const left = ours();
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^trusttap-demo-/);
    expect(kept.stderr).toContain(`state in ${join(tmp, left[0]!)} (kept)`);
    expect(existsSync(join(tmp, left[0]!, 'backend'))).toBe(true);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 120_000);
