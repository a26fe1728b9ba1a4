// Issue 7: every demo scenario ends in the right outcome through the real components — the
// back end on loopback, the reference TEE with the signed TAs, a simulated card and a scripted
// person at the trusted keypad — exactly as `npm run demo -- ... --json` prints it.
import { test, expect, vi } from 'vitest';
import { run } from '../../cli/commands/demo.ts';

async function demo(...args: string[]): Promise<Record<string, any>> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((x: unknown) => { lines.push(String(x)); });
  try {
    expect(await run([...args, '--json'])).toBe(0);
  } finally {
    spy.mockRestore();
  }
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

const FULL_PIN_FLOW = ['card-requested', 'card-presented', 'card-read', 'pin-requested', 'pin-entered', 'processing'];

test.each([
  ['unionpay', 'CNY', '1288.00', FULL_PIN_FLOW, /^622848\*+0017$/],
  ['unionpay', 'CNY', '88.00', ['card-requested', 'card-presented', 'card-read', 'processing'], /^622848\*+0017$/],
  ['visa', 'USD', '25.00', ['card-requested', 'card-presented', 'card-read', 'processing'], /^476173\*+0119$/],
  ['mastercard', 'EUR', '80.00', FULL_PIN_FLOW, /^541333\*+0434$/],
])('%s %s %s: approved, with the events of its CVM and only a masked PAN', async (card, currency, amount, events, masked) => {
  const r = await demo('--card', card, '--currency', currency, '--amount', amount);
  expect(r.outcome).toBe('approved');
  expect(r.responseCode).toBe('00');
  expect(r.authorizationCode).toMatch(/^[0-9A-Z]{6}$/);
  expect(r.events).toEqual(events);
  expect(r.maskedPan).toMatch(masked);
});

test('worker isolation: the same purchase', async () => {
  const r = await demo('--isolation', 'worker', '--card', 'mastercard', '--currency', 'EUR', '--amount', '80.00');
  expect(r.outcome).toBe('approved');
});

test.each([
  ['rooted', 'failed', 'DEVICE_NOT_TRUSTED'],
  ['hooked', 'failed', 'DEVICE_NOT_TRUSTED'],
  ['wrong-pin', 'declined', 'INCORRECT_PIN'],
  ['over-limit', 'failed', 'AMOUNT_OVER_LIMIT'],
  ['card-removed', 'failed', 'TRY_AGAIN'],
  ['lost-answer', 'approved', 'APPROVED'],
])('scenario %s → %s (%s)', async (scenario, outcome, reason) => {
  const r = await demo('--scenario', scenario);
  expect(r.outcome).toBe(outcome);
  expect(r.reason).toBe(reason);
  if (outcome === 'failed') expect(r.remedy).toBeTruthy();
});

test('a wrong option is a usage error (exit 2), not a crash', async () => {
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    expect(await run(['--card', 'amex'])).toBe(2);
    expect(await run(['--scenario', 'moon'])).toBe(2);
    expect(await run(['--amount', '12,34'])).toBe(2);
  } finally {
    err.mockRestore();
  }
});
