// Offline store-and-forward, the back end's side (issue 14 §2; PCI MPoC's offline requirements):
// the per-device offline policy it signs (proto/txsign.proto OfflinePolicy, under the verdict-token
// key with the label "trusttap/offline-policy/v1") from the versioned policy's offline fields, and
// the rules for a record the terminal approved offline and uploaded later. The txsign TA enforces
// the limits on the phone; the back end signs them, checks them again on upload, and carries the
// risk of what the issuer then declines (docs/threat-model.md "Offline").
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { u64, num } from '../util.ts';

const tx = trusttap.txsign.v1;
const pay = trusttap.payment.v1;
type Policy = trusttap.attest.v1.IPolicy;

/** The TA's queue holds at most this many records (ta/txsign/offline.ts MAX_QUEUE). */
export const MAX_OFFLINE_COUNT = 32;
/** A signed offline policy lasts this long unless the policy says otherwise: a device that has
 * not reached the back end for a day stops taking offline payments. */
export const DEFAULT_OFFLINE_POLICY_TTL_MS = 24 * 3_600_000;

/** Checks the offline fields an administrator sends (policy PUT); throws with the reason. */
export function checkOfflinePolicy(p: Policy): void {
  const limits = p.offlineLimits ?? [];
  const seen = new Set<string>();
  for (const l of limits) {
    if (!/^\d{3}$/.test(l.currency ?? '')) throw new Error(`offline_limits: currency ${JSON.stringify(l.currency)} is not 3 ISO 4217 numeric digits`);
    if (seen.has(l.currency!)) throw new Error(`offline_limits: currency ${l.currency} is given twice`);
    seen.add(l.currency!);
    const per = num(l.perTransactionLimitMinor), cum = num(l.cumulativeLimitMinor);
    if (per <= 0 || cum <= 0) throw new Error(`offline_limits ${l.currency}: both limits must be positive`);
    if (per > cum) throw new Error(`offline_limits ${l.currency}: the per-transaction limit ${per} is above the cumulative limit ${cum}`);
  }
  const count = p.offlineMaxCount ?? 0;
  if (limits.length && (count < 1 || count > MAX_OFFLINE_COUNT)) throw new Error(`offline_max_count must be 1..${MAX_OFFLINE_COUNT} when offline limits are set`);
  if (limits.length && num(p.offlineMaxAgeMs) <= 0) throw new Error('offline_max_age_ms must be positive when offline limits are set');
}

/** Whether the policy lets devices accept payments offline at all. */
export function offlineAllowed(p: Policy): boolean {
  return (p.offlineLimits ?? []).length > 0 && (p.offlineMaxCount ?? 0) > 0;
}

export interface OfflinePolicyInput {
  deviceId: string;
  deviceKeySha256: Uint8Array;
  merchantId: string;
  /** Only an ALLOW verdict gets limits; any other gets a policy with none (offline off). */
  allow: boolean;
  /** The highest record counter journaled from this device (repository lastRecordCounter). */
  uploadedThrough: number;
  now: number;
}

/** The encoded OfflinePolicy for one device. */
export function offlinePolicyBytes(p: Policy, i: OfflinePolicyInput): Uint8Array {
  const on = i.allow && offlineAllowed(p);
  return tx.OfflinePolicy.encode({
    deviceId: i.deviceId, deviceKeySha256: i.deviceKeySha256, merchantId: i.merchantId,
    limits: on ? (p.offlineLimits ?? []).map((l) => ({ currency: l.currency, perTransactionLimitMinor: l.perTransactionLimitMinor, cumulativeLimitMinor: l.cumulativeLimitMinor })) : [],
    maxCount: on ? p.offlineMaxCount ?? 0 : 0, maxAgeMs: on ? p.offlineMaxAgeMs ?? u64(0) : u64(0),
    issuedMs: u64(i.now), expiresMs: u64(i.now + (num(p.offlinePolicyTtlMs) || DEFAULT_OFFLINE_POLICY_TTL_MS)),
    uploadedThroughCounter: u64(i.uploadedThrough), policyVersion: p.version ?? 0,
  }).finish();
}

/** What the token key signs: label || 0x00 || the policy bytes. */
export const offlinePolicySigningInput = (bytes: Uint8Array) => labelled(LABEL.offlinePolicy, bytes);

/** The offline-specific refusal of an uploaded record approved offline, '' when it may be
 * authorized: never with a PIN (the TA refuses one, so a PIN here is a forged or altered
 * client), and within today's per-transaction offline limit for its currency. */
export function offlineRecordProblem(p: Policy, record: { amountMinor: unknown; currency: string; pinKsn: Uint8Array }, cvm: number): string {
  if (record.pinKsn.length || cvm === pay.Cvm.CVM_ONLINE_PIN) return 'an offline record cannot carry a PIN (CDCVM or no CVM only)';
  const l = (p.offlineLimits ?? []).find((x) => x.currency === record.currency);
  if (!l) return `the offline policy has no limit for currency ${record.currency}`;
  const amount = num(record.amountMinor);
  if (amount > num(l.perTransactionLimitMinor)) return `the amount ${amount} is above the offline per-transaction limit ${num(l.perTransactionLimitMinor)}`;
  return '';
}
