// Entry Point pre-processing and the transaction checks (ree/emv/preprocessing.ts,
// transaction.ts; Book B §3.1.1, Book 4 §6.5): each limit exactly at its value and one minor
// unit either side, per currency; the TTQ bits set per transaction; the terminal data objects.
import { describe, expect, it } from 'vitest';
import { preProcess } from '../../ree/emv/preprocessing.ts';
import { amountBcd, checkTransaction, limitsFor, terminalData, TransactionError, type TransactionRequest } from '../../ree/emv/transaction.ts';
import type { CombinationConfig, TerminalConfig } from '../../common/emv/config.ts';
import { testTerminalConfig } from '../../sim/test-terminal-config.ts';
import { toHex } from '../../common/hex.ts';

const limits = [
  { currency: '0156', contactlessTransactionLimit: 5_000_00, cvmRequiredLimit: 1_000_01, floorLimit: 0 },
  { currency: '0840', contactlessTransactionLimit: 1_000_00, cvmRequiredLimit: 100_00, floorLimit: 50_00 },
];
const k3: CombinationConfig = { aid: 'A0000000031010', kernelId: 3, partialSelection: true, ttq: '25C04000', limits };
const k2: CombinationConfig = { aid: 'A0000000041010', kernelId: 2, partialSelection: true, limits };
const txn = (amount: number, currency = '0156'): TransactionRequest => ({ amount, currency, date: '251125' });
const one = (amount: number, currency = '0156', c: CombinationConfig = k3) => preProcess([c], txn(amount, currency))[0]!;

describe('pre-processing: limits at their values (amount >= transaction and CVM limits, > floor limit)', () => {
  const table: Array<[string, number, string, boolean, boolean, boolean]> = [
    // what, amount, currency, contactless not allowed, CVM required, floor limit exceeded
    ['CNY zero', 0, '0156', false, false, false],
    ['CNY one fen', 1, '0156', false, false, true],
    ['CNY 1000.00: no CVM', 1_000_00, '0156', false, false, true],
    ['CNY 1000.01: exactly the CVM required limit', 1_000_01, '0156', false, true, true],
    ['CNY 4999.99: one under the transaction limit', 4_999_99, '0156', false, true, true],
    ['CNY 5000.00: exactly the transaction limit', 5_000_00, '0156', true, true, true],
    ['CNY 5000.01', 5_000_01, '0156', true, true, true],
    ['USD 50.00: exactly the floor limit', 50_00, '0840', false, false, false],
    ['USD 50.01: one over the floor limit', 50_01, '0840', false, false, true],
    ['USD 99.99: one under the CVM limit', 99_99, '0840', false, false, true],
    ['USD 100.00: exactly the CVM limit', 100_00, '0840', false, true, true],
    ['USD 999.99', 999_99, '0840', false, true, true],
    ['USD 1000.00: exactly the transaction limit', 1_000_00, '0840', true, true, true],
    ['EUR: no limits for this currency, not allowed', 1, '0978', true, false, false],
  ];
  for (const [what, amount, currency, notAllowed, cvm, floor] of table) {
    it(what, () => {
      const i = one(amount, currency);
      expect([i.contactlessNotAllowed, i.cvmRequiredLimitExceeded, i.floorLimitExceeded]).toEqual([notAllowed, cvm, floor]);
      expect(i.combination).toBe(k3);
    });
  }
  it('one indicator set per combination, in order', () => {
    const r = preProcess([k3, k2, { ...k2, limits: [] }], txn(10_00));
    expect(r.map((i) => [i.combination.kernelId, i.contactlessNotAllowed])).toEqual([[3, false], [2, false], [2, true]]);
  });
});

describe('pre-processing: the TTQ sent to the card (Book B 3.1.1.2)', () => {
  const table: Array<[string, string, number, string, string | undefined]> = [
    // what, configured TTQ, amount, currency, TTQ sent
    ['stale per-transaction bits reset; zero floor limit asks an online cryptogram', '25C04000', 10_00, '0156', '25804000'],
    ['CVM required from the CVM limit', '25004000', 1_000_01, '0156', '25C04000'],
    ['CNY 1000.00: no CVM required bit', '25404000', 1_000_00, '0156', '25804000'],
    ['USD under the floor limit: no online cryptogram bit', '25C04000', 50_00, '0840', '25004000'],
    ['USD over the floor limit', '25004000', 50_01, '0840', '25804000'],
    ['USD at the CVM limit', '25004000', 100_00, '0840', '25C04000'],
    ['other bits of byte 2 kept', '25FF4000', 10_00, '0840', '253F4000'],
    ['no limits for the currency: no bit set', '25C04000', 10_00, '0978', '25004000'],
  ];
  for (const [what, ttq, amount, currency, want] of table) {
    it(what, () => expect(toHex(one(amount, currency, { ...k3, ttq }).ttq!)).toBe(want));
  }
  it('a combination without a TTQ (kernel 2) gets none', () => expect('ttq' in one(10_00, '0156', k2)).toBe(false));
  it('the configured TTQ is not changed', () => {
    const c = { ...k3, ttq: '25C04000' };
    one(10_00, '0840', c);
    expect(c.ttq).toBe('25C04000');
  });
});

describe('transaction checks', () => {
  const ok: TransactionRequest = { amount: 0, currency: '0156', date: '251125' };
  const good: Array<[string, TransactionRequest]> = [
    ['zero', ok],
    ['the largest amount (12 digits)', { ...ok, amount: 999_999_999_999 }],
    ['with a time', { ...ok, time: '235959' }],
  ];
  for (const [what, t] of good) it(`accepts ${what}`, () => expect(() => checkTransaction(t)).not.toThrow());
  const bad: Array<[string, TransactionRequest, RegExp]> = [
    ['a negative amount', { ...ok, amount: -1 }, /amount -1/],
    ['13 digits', { ...ok, amount: 1_000_000_000_000 }, /amount/],
    ['a fraction', { ...ok, amount: 1.5 }, /amount 1.5/],
    ['NaN', { ...ok, amount: Number.NaN }, /amount/],
    ['a 3-digit currency', { ...ok, currency: '156' }, /currency '156'/],
    ['a 5-digit currency', { ...ok, currency: '01566' }, /currency/],
    ['a currency with letters', { ...ok, currency: '0x56' }, /currency/],
    ['a 5-digit date', { ...ok, date: '25112' }, /date '25112'/],
    ['a 7-digit date', { ...ok, date: '2511250' }, /date/],
    ['a date with letters', { ...ok, date: '25112a' }, /date/],
    ['a 4-digit time', { ...ok, time: '1200' }, /time '1200'/],
    ['a time with a colon', { ...ok, time: '12:00:' }, /time/],
    ['a time too long', { ...ok, time: '1200000' }, /time/],
  ];
  for (const [what, t, msg] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => checkTransaction(t)).toThrow(TransactionError);
      expect(() => checkTransaction(t)).toThrow(msg);
      try { checkTransaction(t); } catch (e) { expect((e as TransactionError).code).toBe('TRANSACTION_INVALID'); }
    });
  }
});

describe('terminal data objects', () => {
  const config: TerminalConfig = { ...testTerminalConfig(), merchantNameLocation: 'SHOP' };
  it('amounts in 6-byte BCD', () => {
    expect(toHex(amountBcd(0))).toBe('000000000000');
    expect(toHex(amountBcd(1_000_01))).toBe('000000100001');
    expect(toHex(amountBcd(999_999_999_999))).toBe('999999999999');
  });
  it('the reader limits of the currency, none for another', () => {
    expect(limitsFor(k3, '0840')).toBe(limits[1]);
    expect(limitsFor(k3, '0978')).toBeUndefined();
  });
  it('from the transaction, the configuration, the UN, TTQ and TVR', () => {
    const un = Uint8Array.of(1, 2, 3, 4), tvr = new Uint8Array(5), ttq = Uint8Array.of(0x25, 0x80, 0x40, 0);
    const m = terminalData(config, { amount: 12_34, amountOther: 5, currency: '0156', date: '251125', time: '101112', type: '09' }, un, ttq, tvr);
    const hex = Object.fromEntries([...m].map(([k, v]) => [k, toHex(v)]));
    expect(hex).toEqual({
      '9F02': '000000001234', '9F03': '000000000005', '9F1A': config.terminalCountryCode, '5F2A': '0156', '9A': '251125', '9C': '09',
      '9F21': '101112', '9F37': '01020304', '9F35': config.terminalType, '9F33': config.terminalCapabilities,
      '9F40': config.additionalTerminalCapabilities, '95': '0000000000', '9F34': '3F0000', '9F66': '25804000', '9F4E': toHex(new TextEncoder().encode('SHOP')),
    });
    // The TVR is the caller's array: bits set later are seen by the DOL builder.
    expect(m.get('95')).toBe(tvr);
  });
  it('defaults: no other amount, purchase, time 000000, no TTQ, no merchant name', () => {
    const { merchantNameLocation: _, ...noName } = testTerminalConfig();
    const m = terminalData(noName, { amount: 1, currency: '0840', date: '251125' }, new Uint8Array(4), undefined, new Uint8Array(5));
    expect([toHex(m.get('9F03')!), toHex(m.get('9C')!), toHex(m.get('9F21')!), m.has('9F66'), m.has('9F4E')]).toEqual(['000000000000', '00', '000000', false, false]);
  });
});
