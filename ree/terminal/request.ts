// What every payment start checks first, card or QR: the amount, the currency, the client's
// transaction id and the enrolment, each refused with a typed failure and its remedy.
import { currencyOf, type Currency } from '../../common/currency.ts';
import type { FailureCode, PaymentResult } from './types.ts';

export const failed = (code: FailureCode, message: string, remedy: string): PaymentResult => ({ outcome: 'failed', code, message, remedy });

/** Thrown inside a payment when cancel() was called; it ends as `cancelled`. */
export class Cancelled extends Error {}

export function checkPaymentRequest(req: { amount: number; currency: string; clientTransactionId: string }, enrolled: boolean): { currency: Currency } | PaymentResult {
  let currency: Currency;
  try {
    currency = currencyOf(req.currency);
  } catch {
    return failed('INVALID_REQUEST', `unknown currency ${req.currency}`, 'use an ISO 4217 code such as CNY, USD or EUR');
  }
  if (!Number.isSafeInteger(req.amount) || req.amount <= 0 || req.amount > 999_999_999_999) return failed('INVALID_REQUEST', 'amount must be a positive whole number of minor units', 'pass the amount in cents/fen');
  if (!/^[\x21-\x7e]{1,64}$/.test(req.clientTransactionId ?? '')) return failed('INVALID_REQUEST', 'clientTransactionId must be 1..64 printable characters', 'give every payment a unique id');
  if (!enrolled) return failed('NOT_ENROLLED', 'this device is not enrolled', 'enroll(activationCode) first');
  return { currency };
}
