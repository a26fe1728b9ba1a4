// The acquirer's amount limits (backend/authorization/limits.ts) and the journal's current
// answer for a payment (backend/authorization/current.ts): each currency's own limits exactly at
// their values and one minor unit either side; a reversed approval is never replayed.
import { describe, expect, it } from 'vitest';
import { checkLimits, DEFAULT_LIMITS, type LimitCheck } from '../../backend/authorization/limits.ts';
import { currentAnswer } from '../../backend/authorization/current.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { PaymentRow } from '../../backend/store/repository.ts';

describe('amount limits per currency (transaction limit: amount >= limit; CVM: amount >= limit without CVM)', () => {
  // currency, the last amount without CVM, the CVM required limit, the transaction limit
  const limits: Array<[string, string, number, number, number]> = [
    ['156', 'CNY', 1_000_00, 1_000_01, 5_000_00],
    ['840', 'USD', 99_99, 100_00, 1_000_00],
    ['978', 'EUR', 49_99, 50_00, 1_000_00],
    ['826', 'GBP', 100_00, 100_01, 1_000_00],
    ['344', 'HKD', 1_000_00, 1_000_01, 10_000_00],
    ['392', 'JPY', 10_000, 10_001, 100_000],
  ];
  for (const [currency, name, noCvm, cvm, tx] of limits) {
    const table: Array<[number, boolean, LimitCheck]> = [
      [0, false, 'ok'],
      [noCvm, false, 'ok'],
      [cvm, false, 'cvm-required'],
      [cvm, true, 'ok'],
      [tx - 1, false, 'cvm-required'],
      [tx - 1, true, 'ok'],
      [tx, true, 'over-limit'],
      [tx, false, 'over-limit'],
      [tx + 1, true, 'over-limit'],
    ];
    for (const [amount, cvmPerformed, want] of table) {
      it(`${name} ${amount} minor units, ${cvmPerformed ? 'with' : 'without'} CVM → ${want}`, () => expect(checkLimits(DEFAULT_LIMITS, currency, amount, cvmPerformed)).toBe(want));
    }
  }
  it('a currency without limits is refused, not given another currency\'s', () => {
    expect(checkLimits(DEFAULT_LIMITS, '036', 1, true)).toBe('no-limits');
    expect(checkLimits(DEFAULT_LIMITS, '0156', 1, true)).toBe('no-limits');
    expect(checkLimits([], '156', 1, true)).toBe('no-limits');
  });
  it('configured limits replace the defaults', () => {
    const mine = [{ currency: '156', transactionLimit: 100, cvmRequiredLimit: 50 }];
    expect([checkLimits(mine, '156', 49, false), checkLimits(mine, '156', 50, false), checkLimits(mine, '156', 100, true), checkLimits(mine, '840', 1, true)])
      .toEqual(['ok', 'cvm-required', 'over-limit', 'no-limits']);
  });
});

describe('the journal\'s current answer', () => {
  const pay = trusttap.payment.v1;
  const answer = pay.AuthorizeResponse.create({ decision: pay.Decision.DECISION_APPROVED, reasonText: 'approved', arpc: Uint8Array.of(1, 2), issuerAuthenticationData: Uint8Array.of(3), responseCode: '00' });
  const row = (o: Partial<PaymentRow>): PaymentRow => ({ decision: 'approved', reversedMs: 0, response: pay.AuthorizeResponse.encode(answer).finish(), ...o }) as PaymentRow;
  it('an approval not reversed: the journaled answer', () => {
    const r = currentAnswer(row({}));
    expect([r.decision, r.reasonText, Array.from(r.arpc), Array.from(r.issuerAuthenticationData), r.responseCode]).toEqual([pay.Decision.DECISION_APPROVED, 'approved', [1, 2], [3], '00']);
  });
  it('a reversed approval: REVERSED, when, and no ARPC for the card', () => {
    const r = currentAnswer(row({ reversedMs: 1_700_000_000_000 }));
    expect([r.decision, r.reasonText, Number(r.reversedMs), r.arpc.length, r.issuerAuthenticationData.length, r.responseCode])
      .toEqual([pay.Decision.DECISION_REVERSED, 'reversed', 1_700_000_000_000, 0, 0, '00']);
  });
  it('a decline reversed before it was authorized (tombstone) stays the journaled decline', () => {
    const declined = pay.AuthorizeResponse.create({ decision: pay.Decision.DECISION_DECLINED, reasonText: 'no' });
    const r = currentAnswer(row({ decision: 'declined', reversedMs: 5, response: pay.AuthorizeResponse.encode(declined).finish() }));
    expect([r.decision, r.reasonText]).toEqual([pay.Decision.DECISION_DECLINED, 'no']);
  });
  it('reversedMs of 0 means not reversed; 1 means reversed', () => {
    expect(currentAnswer(row({ reversedMs: 0 })).decision).toBe(pay.Decision.DECISION_APPROVED);
    expect(currentAnswer(row({ reversedMs: 1 })).decision).toBe(pay.Decision.DECISION_REVERSED);
  });
});
