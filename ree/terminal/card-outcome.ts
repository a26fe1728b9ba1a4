// The terminal facade's reading of a kernel outcome (Book A/B outcomes → the app's result):
// what ends the payment on the phone with a typed failure and its remedy, and what goes on to
// the TEE and the acquirer with which CVM. Pure, so every mapping is pinned by a table
// (test/terminal/card-outcome.test.ts).
import type { CardSummary, Outcome } from '../emv/outcome.ts';
import type { Currency } from '../../common/currency.ts';
import { failed } from './request.ts';
import type { PaymentResult } from './types.ts';

/** The CVM the acquirer is told: online PIN and CDCVM as the kernel chose them; anything else
 *  (no CVM, signature — which this toolkit cannot capture) is no CVM, and the acquirer's limits
 *  decide whether that is enough. */
export type BackendCvm = 'ONLINE_PIN' | 'CDCVM' | 'NO_CVM';

/** Card reasons that mean "this card cannot be taken here", not "tap again". */
const UNSUPPORTED = /NOT_SUPPORTED|NO_CANDIDATE|EMPTY_CANDIDATE|AID|EXPIRED|BLOCKED/;

/** YYMM of `nowMs` (UTC). */
export function yymm(nowMs: number): string {
  const d = new Date(nowMs);
  return `${String(d.getUTCFullYear()).slice(2)}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** An online request with everything the TEE and the acquirer need. */
export interface GoOnline { cvm: BackendCvm; sensitive: Uint8Array; card: CardSummary; onlineData: Record<string, string> }

/** The failure that ends the payment for this outcome, or the CVM to go online with. */
export function readCardOutcome(o: Outcome, currency: Currency, nowMs: number): { result: PaymentResult } | GoOnline {
  if (o.kind === 'DECLINED') {
    // A card past its expiry date (5F24, YYMM in the summary) declines itself: say why.
    const exp = o.card?.expiry;
    const why = exp && /^\d{4}$/.test(exp) && exp < yymm(nowMs) ? `; the card expired ${exp.slice(2)}/${exp.slice(0, 2)}` : '';
    return { result: failed('CARD_DECLINED_OFFLINE', `the card declined (${o.reason ?? 'card decision'}${why})`, 'ask for another card or payment method') };
  }
  // The cardholder was asked to verify on the phone and no further tap completed it.
  if (o.ui.message === 'SEE_PHONE') return { result: failed('TRY_AGAIN', `the cardholder must verify on their phone (${o.reason ?? 'see phone'})`, 'ask the customer to unlock their wallet on the phone, then start the payment again') };
  if (o.kind === 'TRY_AGAIN') return { result: failed('TRY_AGAIN', o.reason ?? 'the card read did not complete', 'ask the customer to tap again and hold the card still') };
  if (o.ui.message === 'AMOUNT_OVER_LIMIT' || o.reason === 'CONTACTLESS_NOT_ALLOWED') {
    return { result: failed('AMOUNT_OVER_LIMIT', `the amount is above the contactless transaction limit for ${currency.alpha}`, 'take a smaller amount, or another payment method (chip, QR)') };
  }
  if (o.kind !== 'ONLINE_REQUEST' || !o.sensitive || !o.onlineData || !o.card) {
    // The kernel's own "card not supported" (magstripe only, no PDOL) is no reason to tap again.
    const unsupported = o.ui.message === 'CARD_NOT_SUPPORTED' || UNSUPPORTED.test(o.reason ?? '');
    return { result: failed(unsupported ? 'CARD_NOT_SUPPORTED' : 'CARD_READ_ERROR', `${o.kind}: ${o.reason ?? o.ui.message}`, unsupported ? 'ask for another card or payment method' : 'ask the customer to tap again') };
  }
  const cvm = o.cvm === 'ONLINE_PIN' ? 'ONLINE_PIN' : o.cvm === 'CDCVM' ? 'CDCVM' : 'NO_CVM';
  return { cvm, sensitive: o.sensitive, card: o.card, onlineData: o.onlineData };
}
