// The app side of offline store-and-forward (ree/terminal/offline.ts, issue 14 §2), branch by
// branch: when an authorization provably never left the phone, when the installed offline policy
// is usable, and how each TEE answer of COMMAND_SIGN_OFFLINE reads to the app.
import { describe, expect, it } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status } from '../../proto/status.ts';
import { TeeError } from '../../ree/tee-client/index.ts';
import { neverSent, offlineUsable, offlineFailure, offlineReceipt } from '../../ree/terminal/offline.ts';

const tx = trusttap.txsign.v1;
const fetchFailed = (code?: string) => Object.assign(new TypeError('fetch failed'), code ? { cause: { code } } : {});

describe('an authorization that never left the phone', () => {
  it.each([
    ['ECONNREFUSED', true], ['ENOTFOUND', true], ['EAI_AGAIN', true], ['ENETUNREACH', true], ['EHOSTUNREACH', true], ['EADDRNOTAVAIL', true],
    ['ECONNRESET', false], ['UND_ERR_SOCKET', false], ['ETIMEDOUT', false],
  ])('fetch failed with %s: never sent = %s', (code, want) => expect(neverSent(fetchFailed(code))).toBe(want));
  it('a failure without a cause (a browser), or not a network failure at all, may have been sent', () => {
    expect([neverSent(fetchFailed()), neverSent(new Error('ECONNREFUSED')), neverSent(null)]).toEqual([false, false, false]);
  });
});

describe('a usable offline policy', () => {
  const status = (p: trusttap.txsign.v1.IOfflinePolicy | null) => ({ policy: p, queue: [] });
  const good = { limits: [{ currency: '156' }], maxCount: 3, expiresMs: 1000 } as unknown as trusttap.txsign.v1.IOfflinePolicy;
  it.each<[string, trusttap.txsign.v1.IOfflineStatus | null, number, boolean]>([
    ['limits, a count, before expiry', status(good), 999, true],
    ['at expiry', status(good), 1000, false],
    ['no status', null, 0, false],
    ['no policy', status(null), 0, false],
    ['no limits', status({ ...good, limits: [] }), 0, false],
    ['no count', status({ ...good, maxCount: 0 }), 0, false],
  ])('%s', (_n, s, now, want) => expect(offlineUsable(s, now)).toBe(want));
});

describe('the TEE\'s offline answers as the app sees them', () => {
  const denied = (why: string) => new TeeError(Status.ERROR_ACCESS_DENIED, 4, `offline payment refused: ${why}`);
  it.each([
    ['PER_TRANSACTION_LIMIT: the amount is above the offline per-transaction limit', 'OFFLINE_LIMIT'],
    ['CUMULATIVE_LIMIT: the queued amount would pass the offline cumulative limit', 'OFFLINE_LIMIT'],
    ['MAX_COUNT: the offline queue is full', 'OFFLINE_LIMIT'],
    ['MAX_AGE: the oldest queued payment is older than the offline policy allows', 'OFFLINE_LIMIT'],
    ['NO_POLICY: no offline policy allows offline payments', 'BACKEND_UNREACHABLE'],
    ['POLICY_EXPIRED: the offline policy has expired', 'BACKEND_UNREACHABLE'],
    ['CURRENCY: the offline policy has no limit for this currency', 'BACKEND_UNREACHABLE'],
    ['PIN: a payment with a PIN cannot be taken offline', 'BACKEND_UNREACHABLE'],
    ['the offline policy is for another device', 'BACKEND_UNREACHABLE'],
  ])('%s → %s', (why, code) => {
    const f = offlineFailure(denied(why));
    expect(f?.code).toBe(code);
    expect(f?.message).toContain(why.split(':')[0]);
  });
  it('a queue failing its seal or rollback check is OFFLINE_QUEUE_INVALID', () => {
    for (const s of [Status.ERROR_CORRUPT_OBJECT, Status.ERROR_SECURITY]) expect(offlineFailure(new TeeError(s, 4, 'x'))?.code).toBe('OFFLINE_QUEUE_INVALID');
  });
  it('anything else is not an offline answer', () => {
    expect([offlineFailure(new TeeError(Status.ERROR_ACCESS_DENIED, 4, 'a different verdict-token key is already pinned')), offlineFailure(new TeeError(Status.ERROR_GENERIC, 4, 'x')), offlineFailure(new Error('x'))])
      .toEqual([null, null, null]);
  });
});

describe('the receipt of a queued payment', () => {
  const signed = tx.SignTransactionResponse.encode({ record: tx.TransactionRecord.encode({ type: tx.TransactionType.TRANSACTION_TYPE_REFUND, maskedPan: '622848*********0017' }).finish() }).finish();
  const q = (o: Partial<trusttap.txsign.v1.IQueuedRecord> = {}) => ({ signedTransaction: signed, amountMinor: 8800, currency: '156', timestampMs: 5, cvm: tx.OfflineCvm.OFFLINE_CVM_CDCVM, aid: 'A0', clientTransactionId: 'c', ...o }) as unknown as trusttap.txsign.v1.IQueuedRecord;
  const app = (aid: string, pan: string) => `${aid}|${pan}`;
  it('says offline, response code Y3, no authorization code or reference yet', () => {
    expect(offlineReceipt(q(), { merchantId: 'M', terminalId: 'T' }, app)).toEqual({
      clientTransactionId: 'c', transactionReference: '', type: 'refund', amount: 8800, currency: 'CNY', maskedPan: '622848*********0017', application: 'A0|622848*********0017', aid: 'A0',
      cvm: 'CDCVM', authorizationCode: '', responseCode: 'Y3', merchantId: 'M', terminalId: 'T', timestampMs: 5, offline: true,
    });
  });
  it('no CVM unless CDCVM; a given CVM wins; an unknown currency stays numeric', () => {
    const r = offlineReceipt(q({ cvm: tx.OfflineCvm.OFFLINE_CVM_NO_CVM, currency: '999' }), { merchantId: 'M', terminalId: 'T' }, app);
    expect([r.cvm, r.currency]).toEqual(['NO_CVM', '999']);
    expect(offlineReceipt(q({ cvm: tx.OfflineCvm.OFFLINE_CVM_NO_CVM }), { merchantId: 'M', terminalId: 'T' }, app, 'CDCVM').cvm).toBe('CDCVM');
  });
});
