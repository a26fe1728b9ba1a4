// The pure steps of an authorization (backend/authorization/checks.ts): a resend or a reused
// client transaction id, a record counter jump, the cryptogram's data against the record, and
// the acquirer's amount limits as decline reasons — exactly at each limit and one minor unit over.
import { describe, expect, it } from 'vitest';
import { counterJumps, cryptogramDataProblem, journaledAs, limitsDecline, relayDecline, MAX_RECORD_COUNTER_STEP } from '../../backend/authorization/checks.ts';
import { DEFAULT_LIMITS } from '../../backend/authorization/limits.ts';
import { bcdDigits, parseTlv, TlvError } from '../../backend/authorization/tlv.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const pay = trusttap.payment.v1;
const R = pay.DeclineReason;
const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

describe('idempotency and the record counter', () => {
  it('the same record is a resend; another record under the same id is a reuse; a tombstone answers', () => {
    expect([journaledAs('ab', 'ab'), journaledAs('ab', 'cd'), journaledAs('', 'cd')]).toEqual(['resend', 'reused', 'resend']);
  });
  it('a counter up to the step past the last accepted is not a jump; one more is', () => {
    expect(MAX_RECORD_COUNTER_STEP).toBe(1_000_000);
    expect([counterJumps(7 + MAX_RECORD_COUNTER_STEP, 7), counterJumps(8 + MAX_RECORD_COUNTER_STEP, 7), counterJumps(0, 7)]).toEqual([false, true, false]);
  });
});

describe('the cryptogram\'s data against the record (9F02, 5F2A, 9F27, 9F36)', () => {
  const icc = (o: Record<string, string | null> = {}) => {
    const base: Record<string, string | null> = { '9F02': '000000002500', '5F2A': '0156', '9F27': '80', '9F36': '0012', ...o };
    return new Map(Object.entries(base).filter(([, v]) => v !== null).map(([k, v]) => [k, h(v!)]));
  };
  const table: Array<[string, Record<string, string | null>, number, string, string | null]> = [
    ['an ARQC for the record\'s amount and currency', {}, 25_00, '156', null],
    ['ARQC with other CID bits', { '9F27': '81' }, 25_00, '156', null],
    ['one minor unit more than the card signed', {}, 25_01, '156', '9F02'],
    ['no amount', { '9F02': null }, 25_00, '156', '9F02'],
    ['another currency', {}, 25_00, '840', '5F2A'],
    ['no currency', { '5F2A': null }, 25_00, '156', '5F2A'],
    ['a TC (offline approval) is no online request', { '9F27': '40' }, 25_00, '156', '9F27'],
    ['an AAC', { '9F27': '00' }, 25_00, '156', '9F27'],
    ['a reserved cryptogram type', { '9F27': 'C0' }, 25_00, '156', '9F27'],
    ['no CID', { '9F27': null }, 25_00, '156', '9F27'],
    ['no ATC', { '9F36': null }, 25_00, '156', '9F36'],
    ['an ATC of one byte', { '9F36': '12' }, 25_00, '156', '9F36'],
    ['an ATC of three bytes', { '9F36': '001200' }, 25_00, '156', '9F36'],
  ];
  for (const [what, o, amount, currency, tag] of table) {
    it(`${what} → ${tag ?? 'fine'}`, () => {
      const p = cryptogramDataProblem(icc(o), amount, currency);
      if (tag === null) expect(p).toBeNull();
      else expect(p).toContain(`(${tag}`);
    });
  }
});

describe('amount limits as declines', () => {
  const table: Array<[string, 'purchase' | 'refund', string, number, number, number | null]> = [
    ['CNY 1000.00 without CVM', 'purchase', '156', 1_000_00, pay.Cvm.CVM_NO_CVM, null],
    ['CNY 1000.01 without CVM', 'purchase', '156', 1_000_01, pay.Cvm.CVM_NO_CVM, R.DECLINE_REASON_PIN_REQUIRED],
    ['CNY 1000.01, CVM unspecified', 'purchase', '156', 1_000_01, pay.Cvm.CVM_UNSPECIFIED, R.DECLINE_REASON_PIN_REQUIRED],
    ['CNY 1000.01 with online PIN', 'purchase', '156', 1_000_01, pay.Cvm.CVM_ONLINE_PIN, null],
    ['CNY 1000.01 with CDCVM', 'purchase', '156', 1_000_01, pay.Cvm.CVM_CDCVM, null],
    ['CNY 4999.99 with online PIN', 'purchase', '156', 4_999_99, pay.Cvm.CVM_ONLINE_PIN, null],
    ['CNY 5000.00: exactly the transaction limit', 'purchase', '156', 5_000_00, pay.Cvm.CVM_ONLINE_PIN, R.DECLINE_REASON_OVER_LIMIT],
    ['USD 100.00 without CVM: the USD limit, not the CNY one', 'purchase', '840', 100_00, pay.Cvm.CVM_NO_CVM, R.DECLINE_REASON_PIN_REQUIRED],
    ['USD 99.99 without CVM', 'purchase', '840', 99_99, pay.Cvm.CVM_NO_CVM, null],
    ['USD 1000.00 with CDCVM', 'purchase', '840', 1_000_00, pay.Cvm.CVM_CDCVM, R.DECLINE_REASON_OVER_LIMIT],
    ['a currency without limits', 'purchase', '036', 1, pay.Cvm.CVM_ONLINE_PIN, R.DECLINE_REASON_INVALID_TRANSACTION],
    ['a refund over every limit', 'refund', '156', 9_999_99, pay.Cvm.CVM_NO_CVM, null],
    ['a refund in a currency without limits', 'refund', '036', 1, pay.Cvm.CVM_NO_CVM, null],
  ];
  for (const [what, type, currency, amount, cvm, reason] of table) {
    it(`${what} → ${reason === null ? 'no decline' : R[reason]}`, () => {
      expect(limitsDecline(DEFAULT_LIMITS, type, currency, amount, cvm as trusttap.payment.v1.Cvm)?.reason ?? null).toBe(reason);
    });
  }
  it('the texts', () => {
    expect(limitsDecline(DEFAULT_LIMITS, 'purchase', '036', 1, pay.Cvm.CVM_NO_CVM)?.text).toBe('no contactless limits for currency 036');
    expect(limitsDecline(DEFAULT_LIMITS, 'purchase', '156', 5_000_00, pay.Cvm.CVM_NO_CVM)?.text).toBe('above the contactless transaction limit');
    expect(limitsDecline(DEFAULT_LIMITS, 'purchase', '156', 1_000_01, pay.Cvm.CVM_NO_CVM)?.text).toBe('above the CVM required limit: enter the PIN');
  });
});

describe('the back end\'s TLV reading', () => {
  it('primitive tags at any depth, the first occurrence winning, padding skipped, copies', () => {
    const input = h('00FF' + '7008' + '9F020101' + '9F0201025A0133');
    const m = parseTlv(input);
    expect([...m].map(([t, v]) => [t, Buffer.from(v).toString('hex')])).toEqual([['9F02', '01'], ['5A', '33']]);
    input.fill(0);
    expect(Buffer.from(m.get('5A')!).toString('hex')).toBe('33');
  });
  it('long lengths and three-byte tags', () => {
    expect(parseTlv(h('5A8101AA')).get('5A')).toEqual(h('AA'));
    expect(parseTlv(h('5A820001AA')).get('5A')).toEqual(h('AA'));
    expect(parseTlv(h('9F810201BB')).get('9F8102')).toEqual(h('BB'));
  });
  const bad: Array<[string, string]> = [
    ['a four-byte tag', '9F8181020100'], ['a cut tag', '9F81'], ['no length', '5A'], ['81 without its byte', '5A81'],
    ['80 (no length bytes)', '5A80'], ['84 (four length bytes)', '5A840000000100'], ['a value past the end', '5A0201'],
  ];
  for (const [what, x] of bad) it(`refuses ${what}`, () => expect(() => parseTlv(h(x))).toThrow(TlvError));
  it('BCD digits end at the first F', () => {
    expect([bcdDigits(h('000000002500')), bcdDigits(h('6228480000000000017F')), bcdDigits(h('F1')), bcdDigits(h(''))]).toEqual(['000000002500', '6228480000000000017', '', '']);
  });
});

describe('relayed payments (issue 14: TVR byte 5 b3, relay resistance time limits exceeded)', () => {
  const icc = (tvr?: string) => new Map(tvr === undefined ? [] : [['95', Uint8Array.from(Buffer.from(tvr, 'hex'))]]);
  it.each([
    ['time limits exceeded and RRP performed', '0000000006', true, pay.DeclineReason.DECLINE_REASON_RELAY_SUSPECTED],
    ['time limits exceeded alone', '0000000004', true, pay.DeclineReason.DECLINE_REASON_RELAY_SUSPECTED],
    ['RRP performed, in time', '0000000002', true, null],
    ['threshold exceeded only (not a relay verdict)', '000000000A', true, null],
    ['every other bit set but b3', 'FFFFFFFFFB', true, null],
    ['time limits exceeded, policy: no decline', '0000000006', false, null],
    ['a TVR of 4 bytes', '00000004', true, null],
    ['a TVR of 6 bytes', '000000000400', true, null],
    ['no TVR', undefined, true, null],
  ] as const)('%s', (_what, tvr, decline, reason) => {
    expect(relayDecline(icc(tvr), decline)?.reason ?? null).toBe(reason);
  });
  it('says why', () => {
    expect(relayDecline(icc('0000000004'), true)?.text).toBe('suspected relay: the card answered too slowly for the relay resistance protocol (TVR: relay resistance time limits exceeded)');
  });
});
