// The terminal facade's reading of a kernel outcome (ree/terminal/card-outcome.ts): every
// outcome kind and reason the kernels give, mapped to the app's failure code and remedy, or to
// the CVM the acquirer is told.
import { describe, expect, it } from 'vitest';
import { readCardOutcome, yymm } from '../../ree/terminal/card-outcome.ts';
import { outcome, type Outcome } from '../../ree/emv/outcome.ts';
import { currencyOf } from '../../common/currency.ts';

const CNY = currencyOf('CNY');
const NOW = Date.UTC(2025, 10, 25, 12); // November 2025: "2511"
const card = { aid: 'A000000333010101', kernel: 7, maskedPan: '622848******0017', expiry: '2712' };
const online = (extra: Partial<Outcome> = {}) =>
  outcome('ONLINE_REQUEST', 'AUTHORISING', { card, sensitive: Uint8Array.of(0x5a, 1, 0x11), onlineData: { '9F26': '00' }, ...extra });
const code = (o: Outcome) => {
  const r = readCardOutcome(o, CNY, NOW);
  return 'result' in r ? (r.result.outcome === 'failed' ? r.result.code : r.result.outcome) : `online ${r.cvm}`;
};

describe('outcome → failure code or online CVM', () => {
  const table: Array<[string, Outcome, string]> = [
    ['online, no CVM', online({ cvm: 'NO_CVM' }), 'online NO_CVM'],
    ['online, online PIN', online({ cvm: 'ONLINE_PIN' }), 'online ONLINE_PIN'],
    ['online, CDCVM', online({ cvm: 'CDCVM' }), 'online CDCVM'],
    ['online, signature: the acquirer hears no CVM', online({ cvm: 'SIGNATURE' }), 'online NO_CVM'],
    ['online, CVM not named', online(), 'online NO_CVM'],
    ['online without the sensitive data', online({ sensitive: undefined as never }), 'CARD_READ_ERROR'],
    ['online without online data', online({ onlineData: undefined as never }), 'CARD_READ_ERROR'],
    ['online without a card summary', online({ card: undefined as never }), 'CARD_READ_ERROR'],
    ['declined by the card', outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED' }), 'CARD_DECLINED_OFFLINE'],
    ['declined: PIN not supported', outcome('DECLINED', 'PIN_NOT_SUPPORTED', { reason: 'PIN_NOT_SUPPORTED' }), 'CARD_DECLINED_OFFLINE'],
    ['approved offline: never taken without the acquirer', outcome('APPROVED', 'APPROVED', { card, sensitive: new Uint8Array(1), onlineData: {} }), 'CARD_READ_ERROR'],
    ['try again: card removed', outcome('TRY_AGAIN', 'PRESENT_CARD_AGAIN', { reason: 'CARD_REMOVED' }), 'TRY_AGAIN'],
    ['try again: see phone', outcome('TRY_AGAIN', 'SEE_PHONE', { reason: 'SEE_PHONE' }), 'TRY_AGAIN'],
    ['Kernel 2 see phone, restarts used up', outcome('END_APPLICATION', 'SEE_PHONE', { reason: 'SEE_PHONE', restart: 'B' }), 'TRY_AGAIN'],
    ['over the contactless limit (message)', outcome('END_APPLICATION', 'AMOUNT_OVER_LIMIT'), 'AMOUNT_OVER_LIMIT'],
    ['over the contactless limit (reason)', outcome('END_APPLICATION', 'ERROR', { reason: 'CONTACTLESS_NOT_ALLOWED' }), 'AMOUNT_OVER_LIMIT'],
    ['no application in common', outcome('END_APPLICATION', 'CARD_NOT_SUPPORTED', { reason: 'EMPTY_CANDIDATE_LIST' }), 'CARD_NOT_SUPPORTED'],
    ['blocked application', outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: 'CARD_BLOCKED' }), 'CARD_NOT_SUPPORTED'],
    ['card removed mid-read (end application)', outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: 'GPO_SW_6A82' }), 'CARD_READ_ERROR'],
    ['PDOL missing (the kernel says card not supported)', outcome('END_APPLICATION', 'CARD_NOT_SUPPORTED', { reason: 'PDOL_MISSING' }), 'CARD_NOT_SUPPORTED'],
    ['magstripe mode only (the kernel says card not supported)', outcome('END_APPLICATION', 'CARD_NOT_SUPPORTED', { reason: 'MAGSTRIPE_MODE_ONLY' }), 'CARD_NOT_SUPPORTED'],
    ['a reason naming not supported', outcome('END_APPLICATION', 'ERROR', { reason: 'CVM_NOT_SUPPORTED' }), 'CARD_NOT_SUPPORTED'],
    ['a reason naming the AID', outcome('END_APPLICATION', 'ERROR', { reason: 'AID_UNKNOWN' }), 'CARD_NOT_SUPPORTED'],
    ['FCI AID mismatch', outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: 'FCI_AID_MISMATCH' }), 'CARD_NOT_SUPPORTED'],
    ['expired application', outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: 'EXPIRED' }), 'CARD_NOT_SUPPORTED'],
    ['no candidate', outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: 'NO_CANDIDATE' }), 'CARD_NOT_SUPPORTED'],
    ['malformed card data', outcome('END_APPLICATION', 'ERROR', { reason: 'CARD_DATA_VALUE_MALFORMED' }), 'CARD_READ_ERROR'],
    ['transport failure', outcome('END_APPLICATION', 'ERROR', { reason: 'TRANSPORT_TIMEOUT' }), 'CARD_READ_ERROR'],
    ['no reason', outcome('END_APPLICATION', 'ERROR'), 'CARD_READ_ERROR'],
  ];
  for (const [what, o, want] of table) it(`${what} → ${want}`, () => expect(code(o)).toBe(want));
});

describe('messages and remedies', () => {
  const failure = (o: Outcome) => {
    const r = readCardOutcome(o, CNY, NOW);
    if (!('result' in r) || r.result.outcome !== 'failed') throw new Error('not a failure');
    return [r.result.message, r.result.remedy];
  };
  it('a card decline names its reason', () => {
    expect(failure(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED', card }))).toEqual(['the card declined (CARD_DECLINED)', 'ask for another card or payment method']);
    expect(failure(outcome('DECLINED', 'NOT_AUTHORISED'))[0]).toBe('the card declined (card decision)');
  });
  it('an expired card says so: a month before this one, not this month', () => {
    expect(failure(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED', card: { ...card, expiry: '2510' } }))[0]).toBe('the card declined (CARD_DECLINED; the card expired 10/25)');
    expect(failure(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED', card: { ...card, expiry: '2511' } }))[0]).toBe('the card declined (CARD_DECLINED)');
    expect(failure(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED', card: { ...card, expiry: '251' } }))[0]).toBe('the card declined (CARD_DECLINED)');
    expect(failure(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED', card: { ...card, expiry: '2x10' } }))[0]).toBe('the card declined (CARD_DECLINED)');
    // Exactly four digits: five are not an expiry, whichever four of them would compare below this month.
    expect(failure(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED', card: { ...card, expiry: '12510' } }))[0]).toBe('the card declined (CARD_DECLINED)');
    expect(failure(outcome('DECLINED', 'NOT_AUTHORISED', { reason: 'CARD_DECLINED', card: { ...card, expiry: '25101' } }))[0]).toBe('the card declined (CARD_DECLINED)');
  });
  it('try again', () => {
    const seePhone = ['the cardholder must verify on their phone (SEE_PHONE)', 'ask the customer to unlock their wallet on the phone, then start the payment again'];
    expect(failure(outcome('TRY_AGAIN', 'SEE_PHONE', { reason: 'SEE_PHONE' }))).toEqual(seePhone);
    expect(failure(outcome('END_APPLICATION', 'SEE_PHONE', { reason: 'SEE_PHONE', restart: 'B' }))).toEqual(seePhone);
    expect(failure(outcome('END_APPLICATION', 'SEE_PHONE', { restart: 'B' }))[0]).toBe('the cardholder must verify on their phone (see phone)');
    expect(failure(outcome('TRY_AGAIN', 'PRESENT_CARD_AGAIN'))).toEqual(['the card read did not complete', 'ask the customer to tap again and hold the card still']);
  });
  it('over the limit names the currency', () => {
    expect(failure(outcome('END_APPLICATION', 'AMOUNT_OVER_LIMIT'))).toEqual(['the amount is above the contactless transaction limit for CNY', 'take a smaller amount, or another payment method (chip, QR)']);
  });
  it('not supported and read errors', () => {
    expect(failure(outcome('END_APPLICATION', 'CARD_NOT_SUPPORTED', { reason: 'EMPTY_CANDIDATE_LIST' }))).toEqual(['END_APPLICATION: EMPTY_CANDIDATE_LIST', 'ask for another card or payment method']);
    expect(failure(outcome('END_APPLICATION', 'ERROR'))).toEqual(['END_APPLICATION: ERROR', 'ask the customer to tap again']);
  });
  it('an online request hands over the card data untouched', () => {
    const o = online({ cvm: 'ONLINE_PIN' });
    const r = readCardOutcome(o, CNY, NOW);
    expect('result' in r ? null : [r.sensitive, r.card, r.onlineData]).toEqual([o.sensitive, o.card, o.onlineData]);
  });
  it('YYMM in UTC', () => {
    expect(yymm(NOW)).toBe('2511');
    expect(yymm(Date.UTC(2026, 0, 1))).toBe('2601');
    expect(yymm(Date.UTC(2009, 11, 31, 23, 59))).toBe('0912');
  });
});
