// Issue 7: every demo scenario ends in the right outcome through the real components — the
// back end on loopback, the reference TEE with the signed TAs, a simulated card and a scripted
// person at the trusted keypad — exactly as `npm run demo -- ... --json` prints it. The exit
// code is 0 only for an approval (issue 11).
import { test, expect, vi } from 'vitest';
import { run } from '../../cli/commands/demo.ts';
import { UnionPaySmCardSim } from '../../sim/cards/index.ts';

async function demo(...args: string[]): Promise<Record<string, any>> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((x: unknown) => { lines.push(String(x)); });
  let code: number;
  try {
    code = await run([...args, '--json']);
  } finally {
    spy.mockRestore();
  }
  expect(lines).toHaveLength(1);
  const r = JSON.parse(lines[0]);
  expect(code).toBe(r.outcome === 'approved' ? 0 : 1);
  return r;
}

const FULL_PIN_FLOW = ['card-requested', 'card-presented', 'card-read', 'pin-requested', 'pin-entered', 'processing'];

test.each([
  ['unionpay', 'CNY', '1288.00', FULL_PIN_FLOW, /^622848\*+0017$/],
  ['unionpay', 'CNY', '88.00', ['card-requested', 'card-presented', 'card-read', 'processing'], /^622848\*+0017$/],
  ['visa', 'USD', '25.00', ['card-requested', 'card-presented', 'card-read', 'processing'], /^476173\*+0119$/],
  ['visa-cvn22', 'USD', '25.00', ['card-requested', 'card-presented', 'card-read', 'processing'], /^476173\*+0143$/],
  ['mastercard', 'EUR', '80.00', FULL_PIN_FLOW, /^541333\*+0434$/],
])('%s %s %s: approved, with the events of its CVM and only a masked PAN', async (card, currency, amount, events, masked) => {
  const r = await demo('--card', card, '--currency', currency, '--amount', amount);
  expect(r.outcome).toBe('approved');
  expect(r.responseCode).toBe('00');
  expect(r.authorizationCode).toMatch(/^[0-9A-Z]{6}$/);
  expect(r.events).toEqual(events);
  expect(r.maskedPan).toMatch(masked);
});

// Issue 11: card payments in every currency the test configuration has reader limits for; a
// currency without limits is named as such before any tap, not an amount over a limit.
test.each([
  ['GBP', '1.00', 2, 100],
  ['HKD', '88.00', 2, 8800],
  ['JPY', '1500', 0, 1500],
])('card payment in %s %s: approved (minor units with %i decimals)', async (currency, amount, _exp, minor) => {
  const r = await demo('--card', 'visa', '--currency', currency, '--amount', amount);
  expect(r.outcome).toBe('approved');
  expect(r.amount).toBe(minor);
  expect(r.currency).toBe(currency);
});

test('JPY above its no-CVM limit asks for the PIN; above its contactless limit is over the limit', async () => {
  expect((await demo('--card', 'mastercard', '--currency', 'JPY', '--amount', '20000')).events).toEqual(FULL_PIN_FLOW);
  const over = await demo('--card', 'mastercard', '--currency', 'JPY', '--amount', '100000');
  expect([over.outcome, over.reason]).toEqual(['failed', 'AMOUNT_OVER_LIMIT']);
});

test('a currency with no reader limits: CURRENCY_NOT_CONFIGURED before any tap', async () => {
  const r = await demo('--card', 'visa', '--currency', 'AUD', '--amount', '1.00');
  expect([r.outcome, r.reason]).toEqual(['failed', 'CURRENCY_NOT_CONFIGURED']);
  expect(r.message).toMatch(/AUD are not configured/);
  expect(r.events).toEqual([]);
});

// The cards sim/README.md promises, each with its outcome.
test.each([
  ['unionpay-low-balance', '88.00', 'declined', 'INSUFFICIENT_FUNDS', '51'],
  ['visa-blocked', '25.00', 'declined', 'BLOCKED_CARD', '62'],
])('card %s: %s %s', async (card, amount, outcome, reason, rc) => {
  const r = await demo('--card', card, '--currency', card.startsWith('visa') ? 'USD' : 'CNY', '--amount', amount);
  expect([r.outcome, r.reason, r.responseCode]).toEqual([outcome, reason, rc]);
  expect(r.maskedPan).toMatch(card.startsWith('visa') ? /^476173\*+0127$/ : /^622848\*+0026$/);
});

test('the low-balance card is approved within its balance', async () => {
  expect((await demo('--card', 'unionpay-low-balance', '--amount', '12.00')).outcome).toBe('approved');
});

test('the expired card (5F24 in the past) declines itself: nothing reaches the issuer', async () => {
  const r = await demo('--card', 'unionpay-expired', '--amount', '88.00');
  expect([r.outcome, r.reason]).toEqual(['failed', 'CARD_DECLINED_OFFLINE']);
  expect(r.message).toMatch(/expired 01\/24/);
  expect(r.events).not.toContain('processing');
});

// Issue 19: a UnionPay national-algorithm card end to end — SM2 fDDA at the reader, an SM4 ARQC
// (IAD algorithm indicator 04) verified by the back end's HSM, the SM4 ARPC in the answer.
test.each([
  ['1288.00', FULL_PIN_FLOW],
  ['88.00', ['card-requested', 'card-presented', 'card-read', 'processing']],
])('unionpay-sm CNY %s: approved on an SM4 cryptogram', async (amount, events) => {
  const keys = vi.spyOn(UnionPaySmCardSim.prototype as unknown as { cryptogramKeys: () => { cvn: { cipher?: string } } }, 'cryptogramKeys');
  try {
    const r = await demo('--card', 'unionpay-sm', '--amount', amount);
    expect([r.outcome, r.responseCode, r.application]).toEqual(['approved', '00', 'UnionPay']);
    expect(r.events).toEqual(events);
    expect(r.maskedPan).toMatch(/^622848\*+0042$/);
    expect(keys.mock.results.map((x) => x.value.cvn.cipher)).toEqual(['sm4']);
  } finally {
    keys.mockRestore();
  }
});

test('unionpay-sm-wrong-key: the SM4 ARQC does not verify, declined CRYPTOGRAM_FAILED', async () => {
  const r = await demo('--card', 'unionpay-sm-wrong-key', '--amount', '88.00');
  expect([r.outcome, r.reason]).toEqual(['declined', 'CRYPTOGRAM_FAILED']);
  expect(r.maskedPan).toMatch(/^622848\*+0059$/);
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
  ['offline', 'approved', 'APPROVED'], // approved offline, queued, then uploaded and approved by the acquirer
  // Issue 14: a relayed Mastercard card: relay resistance flags it, the acquirer declines (59).
  ['relay', 'declined', 'RELAY_SUSPECTED'],
  // Issue 14: the phone wallet asks for See Phone, the second tap pays with CDCVM.
  ['see-phone', 'approved', 'APPROVED'],
])('scenario %s → %s (%s)', async (scenario, outcome, reason) => {
  const r = await demo('--scenario', scenario);
  expect(r.outcome).toBe(outcome);
  expect(r.reason).toBe(reason);
  if (outcome === 'failed') expect(r.remedy).toBeTruthy();
  if (scenario === 'see-phone') {
    expect([r.card, r.cvm, r.maskedPan]).toEqual(['mastercard-wallet', 'CDCVM', expect.stringMatching(/^541333\*+0442$/)]);
    expect(r.events).toEqual(['card-requested', 'card-presented', 'card-read', 'see-phone', 'card-presented', 'card-read', 'processing']);
  }
  if (scenario === 'relay') expect([r.card, r.responseCode]).toEqual(['mastercard', '59']);
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
