// The pure decisions of an authorization (backend/authorization/authorize.ts steps 0, 2, 3, 4):
// a resend or a reused client transaction id, a record counter that jumps, the cryptogram data
// against the record (EMV Book 3: 9F02, 5F2A, 9F27 an ARQC, 9F36), and the amount limits as a
// decline reason. Kept apart from the steps that need the store and the HSM so that each is
// pinned by a table (test/backend/authorization-checks.test.ts).
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { checkLimits, type AmountLimits } from './limits.ts';
import { bcdDigits } from './tlv.ts';

const pay = trusttap.payment.v1;
const R = pay.DeclineReason;
type Reason = trusttap.payment.v1.DeclineReason;

/** How far a txsign record counter may pass the last accepted one: records the device made and
 * never sent (declined locally, cancelled) use numbers too. */
export const MAX_RECORD_COUNTER_STEP = 1_000_000;

/** Step 0: a client transaction id already journaled for this device is a resend when the signed
 *  record is the same bytes (or the journal row is a tombstone without a record), else a reuse. */
export function journaledAs(journaledRecordSha256: string, recordSha256: string): 'resend' | 'reused' {
  return journaledRecordSha256 === recordSha256 || journaledRecordSha256 === '' ? 'resend' : 'reused';
}

/** Step 2: a counter more than MAX_RECORD_COUNTER_STEP past the last accepted one is refused
 *  before it is accepted (one accepted 2^64 − 1 would leave no later record acceptable). */
export function counterJumps(counter: number, lastAccepted: number): boolean {
  return counter > lastAccepted + MAX_RECORD_COUNTER_STEP;
}

/** Step 3: what is wrong with the cryptogram's data for this record, or null. */
export function cryptogramDataProblem(icc: ReadonlyMap<string, Uint8Array>, amountMinor: number, currency: string): string | null {
  const amount9f02 = icc.get('9F02'), currency5f2a = icc.get('5F2A'), cid = icc.get('9F27'), atc = icc.get('9F36');
  if (!amount9f02 || Number(bcdDigits(amount9f02)) !== amountMinor) return 'the amount differs from the one the card signed (9F02)';
  if (!currency5f2a || bcdDigits(currency5f2a).slice(-3) !== currency) return 'the currency differs from the one the card signed (5F2A)';
  if (!cid || (cid[0]! & 0xc0) !== 0x80) return 'the card did not ask to go online (9F27 is not an ARQC)';
  if (!atc || atc.length !== 2) return 'no application transaction counter (9F36)';
  return null;
}

/** TVR (95) byte 5 b3: Kernel 2's "relay resistance time limits exceeded" (Book C-2). */
const TVR5_RRP_TIME_LIMITS_EXCEEDED = 0x04;

/** Step 3b: a card read the kernel's relay resistance protocol flagged as relayed, declined as
 *  suspected fraud when the policy says so (relay_decline). Issue 14. */
export function relayDecline(icc: ReadonlyMap<string, Uint8Array>, declineRelayed: boolean): { reason: Reason; text: string } | null {
  const tvr = icc.get('95');
  if (!declineRelayed || !tvr || tvr.length !== 5 || !(tvr[4]! & TVR5_RRP_TIME_LIMITS_EXCEEDED)) return null;
  return { reason: R.DECLINE_REASON_RELAY_SUSPECTED, text: 'suspected relay: the card answered too slowly for the relay resistance protocol (TVR: relay resistance time limits exceeded)' };
}

/** Step 4: a purchase over the acquirer's limits for its currency, as a decline; refunds have
 *  no contactless limits. Online PIN and CDCVM count as a CVM, nothing else does. */
export function limitsDecline(limits: readonly AmountLimits[], type: 'purchase' | 'refund', currency: string, amountMinor: number, cvm: trusttap.payment.v1.Cvm): { reason: Reason; text: string } | null {
  if (type !== 'purchase') return null;
  const l = checkLimits(limits, currency, amountMinor, cvm === pay.Cvm.CVM_ONLINE_PIN || cvm === pay.Cvm.CVM_CDCVM);
  if (l === 'no-limits') return { reason: R.DECLINE_REASON_INVALID_TRANSACTION, text: `no contactless limits for currency ${currency}` };
  if (l === 'over-limit') return { reason: R.DECLINE_REASON_OVER_LIMIT, text: 'above the contactless transaction limit' };
  if (l === 'cvm-required') return { reason: R.DECLINE_REASON_PIN_REQUIRED, text: 'above the CVM required limit: enter the PIN' };
  return null;
}
