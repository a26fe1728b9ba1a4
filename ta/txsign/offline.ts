// Offline store-and-forward in the txsign TA (issue 14 §2; PCI MPoC's offline requirements): the
// back end's signed offline policy (proto/txsign.proto OfflinePolicy, verified under the pinned
// verdict-token key) and the queue of records approved while the back end could not be reached.
// Both live in ONE sealed object, written whole, so a queue can never be paired with another
// policy, and sealed storage's RPMB-bound version refuses a replayed (rolled-back) or altered
// copy. The limits are decided here, not in the REE: an app cannot talk the TA past them.
import * as host from "../lib/host";
import {
  OfflineState, OfflinePolicy, OfflineLimit, OfflineRefusal, OfflineCvm, TransactionRecord, QueuedRecord,
} from "../../proto/gen/as/txsign";
import { bytesOf, concat, equalCT } from "../lib/bytes";
import { isLowS } from "../lib/ecdsa-low-s";
import { ERROR_CORRUPT_OBJECT, ERROR_ITEM_NOT_FOUND } from "../lib/status";

const OFFLINE_ID = bytesOf("offline");
/** "trusttap/offline-policy/v1" 0x00 (common/signature-labels.ts LABEL.offlinePolicy). */
const POLICY_LABEL = concat(bytesOf("trusttap/offline-policy/v1"), new Uint8Array(1));
/** Most records the queue holds, whatever a policy says: the whole queue must fit one TA answer
 * (64 KiB) with room for records carrying the largest cryptogram data. */
export const MAX_QUEUE: u32 = 32;

/** The last storage status (0 or a status < 0). */
export let storageStatus: i32 = 0;

/** The sealed offline state; a fresh one when none was written; null on a storage failure
 * (altered: CORRUPT_OBJECT; replayed older copy: SECURITY). */
export function loadOffline(): OfflineState | null {
  const n = host.storage_size(OFFLINE_ID.dataStart, OFFLINE_ID.length);
  if (n == <i32>ERROR_ITEM_NOT_FOUND) { storageStatus = 0; return new OfflineState(); }
  if (n < 0) { storageStatus = n; return null; }
  const buf = new Uint8Array(n);
  const r = host.storage_read(OFFLINE_ID.dataStart, OFFLINE_ID.length, buf.dataStart, n);
  if (r < 0) { storageStatus = r; return null; }
  const s = OfflineState.decode(buf);
  if (!s) { storageStatus = <i32>ERROR_CORRUPT_OBJECT; return null; }
  storageStatus = 0;
  return s;
}

export function saveOffline(s: OfflineState): i32 {
  const b = s.encode();
  storageStatus = host.storage_write(OFFLINE_ID.dataStart, OFFLINE_ID.length, b.dataStart, b.length);
  return storageStatus;
}

/** The policy bytes when the signature verifies under key and they are canonical, else null. */
export function verifiedPolicy(key: Uint8Array, bytes: Uint8Array, signature: Uint8Array): OfflinePolicy | null {
  // Low-S only: the high-S twin of the back end's signature is not a second policy.
  if (signature.length != 64 || bytes.length == 0 || !isLowS(signature)) return null;
  const msg = concat(POLICY_LABEL, bytes);
  if (host.ecc_verify(host.ALG_ECDSA_P256, key.dataStart, key.length, msg.dataStart, msg.length, signature.dataStart, signature.length) != 0) return null;
  const p = OfflinePolicy.decode(bytes);
  if (!p || !equalCT(p.encode(), bytes)) return null;
  return p;
}

/** "" when the policy's numbers are within what the TA supports, else what is wrong. */
export function policyProblem(p: OfflinePolicy): string {
  if (p.maxCount > MAX_QUEUE) return "max_count must be at most " + MAX_QUEUE.toString();
  for (let i = 0; i < p.limits.length; i++) {
    const l = p.limits[i];
    if (l.currency.length != 3) return "each limit's currency must be 3 ISO 4217 numeric digits";
    if (l.perTransactionLimitMinor > l.cumulativeLimitMinor) return "a per-transaction limit above its cumulative limit";
  }
  return "";
}

/** Drops the queued records the back end has journaled (counter ≤ uploaded_through). */
export function dropUploaded(s: OfflineState, through: u64): void {
  const keep = new Array<QueuedRecord>();
  for (let i = 0; i < s.queue.length; i++) if (s.queue[i].counter > through) keep.push(s.queue[i]);
  s.queue = keep;
}

function limitFor(p: OfflinePolicy, currency: string): OfflineLimit | null {
  for (let i = 0; i < p.limits.length; i++) if (p.limits[i].currency == currency) return p.limits[i];
  return null;
}

/** EMV CVM Results (9F34) in the record's cryptogram data name online PIN (Book 3 Annex C3: CVM
 * code 02, "enciphered PIN verified online"). Not 01: Kernel 2 reports CDCVM as 01 00 02. */
export function pinCvm(tlv: Uint8Array): bool {
  let i = 0;
  while (i < tlv.length) {
    const t0 = tlv[i++];
    let tag: u32 = t0;
    if ((t0 & 0x1f) == 0x1f) {
      while (i < tlv.length) { const b = tlv[i++]; tag = (tag << 8) | b; if ((b & 0x80) == 0) break; }
    }
    if (i >= tlv.length) return false;
    let len: i32 = tlv[i++];
    if (len == 0x81) { if (i >= tlv.length) return false; len = tlv[i++]; }
    else if (len == 0x82) { if (i + 1 >= tlv.length) return false; len = (<i32>tlv[i] << 8) | tlv[i + 1]; i += 2; }
    else if (len > 0x7f) return false;
    if (i + len > tlv.length) return false;
    if (tag == 0x9f34 && len >= 1) {
      return (tlv[i] & 0x3f) == 0x02;
    }
    i += len;
  }
  return false;
}

/** Why this record may not be approved offline now (REE time `now`), or UNSPECIFIED when it
 * may. A PIN of any kind is refused first: an online-PIN payment can never go offline. */
export function refusalFor(s: OfflineState, r: TransactionRecord, cvm: OfflineCvm, now: u64): OfflineRefusal {
  if (r.pinKsn.length != 0 || (cvm != OfflineCvm.OFFLINE_CVM_NO_CVM && cvm != OfflineCvm.OFFLINE_CVM_CDCVM) || pinCvm(r.cryptogramData)) {
    return OfflineRefusal.OFFLINE_REFUSAL_PIN;
  }
  const p = s.policy;
  if (!p || p.limits.length == 0 || p.maxCount == 0) return OfflineRefusal.OFFLINE_REFUSAL_NO_POLICY;
  if (now >= p.expiresMs) return OfflineRefusal.OFFLINE_REFUSAL_POLICY_EXPIRED;
  const l = limitFor(p, r.currency);
  if (!l) return OfflineRefusal.OFFLINE_REFUSAL_CURRENCY;
  if (r.amountMinor > l.perTransactionLimitMinor) return OfflineRefusal.OFFLINE_REFUSAL_PER_TRANSACTION_LIMIT;
  if (<u32>s.queue.length >= p.maxCount || <u32>s.queue.length >= MAX_QUEUE) return OfflineRefusal.OFFLINE_REFUSAL_MAX_COUNT;
  let sum: u64 = r.amountMinor;
  for (let i = 0; i < s.queue.length; i++) if (s.queue[i].currency == r.currency) sum += s.queue[i].amountMinor;
  if (sum > l.cumulativeLimitMinor) return OfflineRefusal.OFFLINE_REFUSAL_CUMULATIVE_LIMIT;
  // The oldest queued record's age (records are queued in time order); a clock set back past
  // it counts as too old too, so moving the REE clock cannot hide an old queue.
  if (s.queue.length > 0) {
    const oldest = s.queue[0].timestampMs;
    if (now < oldest || now - oldest > p.maxAgeMs) return OfflineRefusal.OFFLINE_REFUSAL_MAX_AGE;
  }
  return OfflineRefusal.OFFLINE_REFUSAL_UNSPECIFIED;
}

/** A refusal's name, for the error message the REE maps to its limit. */
export function refusalName(r: OfflineRefusal): string {
  switch (r) {
    case OfflineRefusal.OFFLINE_REFUSAL_NO_POLICY: return "NO_POLICY: no offline policy allows offline payments";
    case OfflineRefusal.OFFLINE_REFUSAL_POLICY_EXPIRED: return "POLICY_EXPIRED: the offline policy has expired";
    case OfflineRefusal.OFFLINE_REFUSAL_CURRENCY: return "CURRENCY: the offline policy has no limit for this currency";
    case OfflineRefusal.OFFLINE_REFUSAL_PER_TRANSACTION_LIMIT: return "PER_TRANSACTION_LIMIT: the amount is above the offline per-transaction limit";
    case OfflineRefusal.OFFLINE_REFUSAL_CUMULATIVE_LIMIT: return "CUMULATIVE_LIMIT: the queued amount would pass the offline cumulative limit";
    case OfflineRefusal.OFFLINE_REFUSAL_MAX_COUNT: return "MAX_COUNT: the offline queue is full";
    case OfflineRefusal.OFFLINE_REFUSAL_MAX_AGE: return "MAX_AGE: the oldest queued payment is older than the offline policy allows";
    case OfflineRefusal.OFFLINE_REFUSAL_PIN: return "PIN: a payment with a PIN cannot be taken offline (CDCVM or no CVM only)";
  }
  return "UNSPECIFIED";
}
