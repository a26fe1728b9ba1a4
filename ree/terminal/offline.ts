// Offline store-and-forward, the app side (issue 14 §2; PCI MPoC's offline requirements): when
// a payment may go offline, how a TEE refusal reads to the app, and the receipt of a queued
// payment. The limits themselves are the txsign TA's (ta/txsign/offline.ts): this module only
// reads its answers.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status } from '../../proto/status.ts';
import { currencyOf } from '../../common/currency.ts';
import { TeeError } from '../tee-client/index.ts';
import { isNetworkError, failed } from './request.ts';
import type { PaymentResult, Receipt } from './types.ts';

const tx = trusttap.txsign.v1;

/** fetch() causes that prove the request never left this phone (no connection was made), so an
 * authorization cannot have reached the acquirer and the payment may be re-signed offline. Any
 * other network failure (a reset, a timeout, a browser's causeless TypeError) may have delivered
 * it: that stays "result unknown". */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

export function neverSent(e: unknown): boolean {
  if (!isNetworkError(e)) return false;
  const code = (e as { cause?: { code?: string } }).cause?.code;
  return !!code && NOT_SENT.has(code);
}

/** Whether the installed policy lets this phone take payments offline at all now (its limits
 * still apply, in the TA). */
export function offlineUsable(s: trusttap.txsign.v1.IOfflineStatus | null, nowMs: number): boolean {
  const p = s?.policy;
  return !!p && (p.limits ?? []).length > 0 && (p.maxCount ?? 0) > 0 && Number(p.expiresMs ?? 0) > nowMs;
}

/** The typed failure of a TEE error from COMMAND_SIGN_OFFLINE, or null when it is not one of
 * its offline answers. A limit is OFFLINE_LIMIT; no usable policy or a PIN is "unreachable"; a
 * queue that fails its seal or rollback check is OFFLINE_QUEUE_INVALID. */
export function offlineFailure(e: unknown): Extract<PaymentResult, { outcome: 'failed' }> | null {
  if (!(e instanceof TeeError)) return null;
  if (e.status === Status.ERROR_ACCESS_DENIED && /offline payment refused: /.test(e.message)) {
    const limit = /refused: (PER_TRANSACTION_LIMIT|CUMULATIVE_LIMIT|MAX_COUNT|MAX_AGE)\b/.test(e.message);
    return limit
      ? failed('OFFLINE_LIMIT', `the acquirer is unreachable and ${e.message.replace(/^.*offline payment refused: /, 'the offline policy refuses it: ')}`,
        'reconnect to the acquirer: offline payments resume once the queue is uploaded') as Extract<PaymentResult, { outcome: 'failed' }>
      : failed('BACKEND_UNREACHABLE', `the acquirer is unreachable and this payment cannot be taken offline: ${e.message.replace(/^.*offline payment refused: /, '')}`,
        'check the network, then try again') as Extract<PaymentResult, { outcome: 'failed' }>;
  }
  if (e.status === Status.ERROR_CORRUPT_OBJECT || e.status === Status.ERROR_SECURITY) {
    return failed('OFFLINE_QUEUE_INVALID', `the TEE refused its offline queue: ${e.message}`,
      'do not take offline payments on this phone; reconnect to the acquirer and contact it (the queue was altered or restored)') as Extract<PaymentResult, { outcome: 'failed' }>;
  }
  return null;
}

/** The receipt of a payment approved offline: EMV response code Y3 ("unable to go online,
 * offline approved"), no authorization code or acquirer reference until it is uploaded. */
export function offlineReceipt(q: trusttap.txsign.v1.IQueuedRecord, ids: { merchantId: string; terminalId: string }, application: (aid: string, maskedPan: string) => string,
  cvm?: Receipt['cvm']): Receipt {
  const signed = tx.SignTransactionResponse.decode(q.signedTransaction ?? new Uint8Array(0));
  const record = tx.TransactionRecord.decode(signed.record);
  let currency = q.currency ?? '';
  try { currency = currencyOf(currency).alpha; } catch { /* keep the numeric code */ }
  return {
    clientTransactionId: q.clientTransactionId ?? '', transactionReference: '', type: record.type === tx.TransactionType.TRANSACTION_TYPE_REFUND ? 'refund' : 'purchase',
    amount: Number(q.amountMinor ?? 0), currency, maskedPan: record.maskedPan, application: application(q.aid ?? '', record.maskedPan), aid: q.aid ?? '',
    cvm: cvm ?? (q.cvm === tx.OfflineCvm.OFFLINE_CVM_CDCVM ? 'CDCVM' : 'NO_CVM'), authorizationCode: '', responseCode: 'Y3',
    merchantId: ids.merchantId, terminalId: ids.terminalId, timestampMs: Number(q.timestampMs ?? 0), offline: true,
  };
}
