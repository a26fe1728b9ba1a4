// What every payment start checks first, card or QR: the amount, the currency, the client's
// transaction id and the enrolment, each refused with a typed failure and its remedy.
import { currencyOf, type Currency } from '../../common/currency.ts';
import { TeeError } from '../tee-client/index.ts';
import { BackendError } from '../attestation/backend-link.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const at = trusttap.attest.v1;
import type { FailureCode, PaymentResult } from './types.ts';

export const failed = (code: FailureCode, message: string, remedy: string): PaymentResult => ({ outcome: 'failed', code, message, remedy });

/** fetch() rejects with a TypeError when the request never got an HTTP answer (refused
 * connection, DNS, reset): the back end is unreachable, not refusing. */
export function isNetworkError(e: unknown): boolean {
  return e instanceof TypeError && /fetch/i.test(e.message);
}

/** The typed failure of an error from the back end or the TEE: a 403 is the acquirer refusing
 * this device, any other HTTP answer BACKEND_REFUSED with its status, no answer at all
 * BACKEND_UNREACHABLE, a TEE failure TEE_ERROR. Null for anything else (a bug: rethrow it). */
export function failureOf(e: unknown, retry = 'try again'): Extract<PaymentResult, { outcome: 'failed' }> | null {
  const f = (code: FailureCode, message: string, remedy: string, httpStatus?: number) =>
    ({ outcome: 'failed' as const, code, message, remedy, ...(httpStatus !== undefined ? { httpStatus } : {}) });
  if (e instanceof BackendError) {
    if (e.code === at.ErrorCode.ERROR_CLIENT_REFUSED) return f('CLIENT_NOT_ALLOWED', e.reason, 'install a release of this app that the acquirer allows (from the official store); an altered app is reported to the acquirer', 403);
    if (e.http === 403) return f('DEVICE_NOT_TRUSTED', e.reason, 'the acquirer suspended payments on this device: check the device and contact the acquirer', 403);
    const named = e.code ? ` ${e.codeName}` : '';
    return f('BACKEND_REFUSED', `the acquirer answered HTTP ${e.http}${named}: ${e.reason}`, `${retry}; if it persists, contact the acquirer`, e.http);
  }
  if (isNetworkError(e)) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return f('BACKEND_UNREACHABLE', `the acquirer is unreachable${cause?.code ? ` (${cause.code})` : cause?.message ? ` (${cause.message})` : ''}`, `check the network and the back-end address, then ${retry}`);
  }
  if (e instanceof TeeError) return f('TEE_ERROR', e.message, 'restart the app; if it persists the trusted apps need reinstalling');
  return null;
}

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
