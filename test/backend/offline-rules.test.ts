// The back end's offline rules (backend/authorization/offline.ts, issue 14 §2), branch by branch
// and at each boundary: which offline settings an administrator may set, the per-device offline
// policy it signs (limits only for ALLOW), and the refusal of an uploaded offline record.
import { describe, expect, it } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import {
  checkOfflinePolicy, offlineAllowed, offlinePolicyBytes, offlinePolicySigningInput, offlineRecordProblem, MAX_OFFLINE_COUNT, DEFAULT_OFFLINE_POLICY_TTL_MS,
} from '../../backend/authorization/offline.ts';
import { u64 } from '../../backend/util.ts';

const tx = trusttap.txsign.v1;
const pay = trusttap.payment.v1;
type P = trusttap.attest.v1.IPolicy;
const limit = (currency: string, per: number, cum: number) => ({ currency, perTransactionLimitMinor: u64(per), cumulativeLimitMinor: u64(cum) });
const policy = (o: P = {}): P => ({ version: 9, offlineLimits: [limit('156', 200_00, 500_00)], offlineMaxCount: 3, offlineMaxAgeMs: u64(3_600_000), ...o });

describe('offline settings an administrator may set', () => {
  it.each<[string, P, RegExp | null]>([
    ['a whole offline policy', policy(), null],
    ['none at all (offline off)', { offlineLimits: [] }, null],
    ['per payment equal to the cumulative limit', policy({ offlineLimits: [limit('156', 5, 5)] }), null],
    ['count 1', policy({ offlineMaxCount: 1 }), null],
    [`count ${MAX_OFFLINE_COUNT}`, policy({ offlineMaxCount: MAX_OFFLINE_COUNT }), null],
    [`count ${MAX_OFFLINE_COUNT + 1}`, policy({ offlineMaxCount: MAX_OFFLINE_COUNT + 1 }), /offline_max_count must be 1\.\.32/],
    ['count 0 with limits', policy({ offlineMaxCount: 0 }), /offline_max_count must be 1\.\.32/],
    ['age 0 with limits', policy({ offlineMaxAgeMs: u64(0) }), /offline_max_age_ms must be positive/],
    ['age 1 ms', policy({ offlineMaxAgeMs: u64(1) }), null],
    ['a currency that is not 3 digits', policy({ offlineLimits: [limit('CNY', 1, 1)] }), /currency "CNY" is not 3 ISO 4217 numeric digits/],
    ['a 4-digit currency', policy({ offlineLimits: [limit('1560', 1, 1)] }), /not 3 ISO 4217/],
    ['a currency twice', policy({ offlineLimits: [limit('156', 1, 1), limit('156', 2, 2)] }), /currency 156 is given twice/],
    ['a zero per-payment limit', policy({ offlineLimits: [limit('156', 0, 1)] }), /both limits must be positive/],
    ['a zero cumulative limit', policy({ offlineLimits: [limit('156', 1, 0)] }), /both limits must be positive/],
    ['per payment above the cumulative limit', policy({ offlineLimits: [limit('156', 6, 5)] }), /per-transaction limit 6 is above the cumulative limit 5/],
  ])('%s', (_name, p, error) => {
    if (error) expect(() => checkOfflinePolicy(p)).toThrow(error);
    else expect(() => checkOfflinePolicy(p)).not.toThrow();
  });

  it('offline is allowed only with limits and a count', () => {
    expect([offlineAllowed(policy()), offlineAllowed(policy({ offlineLimits: [] })), offlineAllowed(policy({ offlineMaxCount: 0 })), offlineAllowed({})]).toEqual([true, false, false, false]);
  });
});

describe('the signed per-device offline policy', () => {
  const input = { deviceId: 'dev-1', deviceKeySha256: new Uint8Array(32).fill(7), merchantId: 'M-1', allow: true, uploadedThrough: 41, now: 1_000_000 };
  const decode = (b: Uint8Array) => tx.OfflinePolicy.decode(b);

  it('ALLOW: the policy\'s limits, bound to the device, acknowledging the last journaled record', () => {
    const p = decode(offlinePolicyBytes(policy(), input));
    expect([p.deviceId, p.merchantId, Buffer.from(p.deviceKeySha256).toString('hex'), p.maxCount, Number(p.maxAgeMs), Number(p.uploadedThroughCounter), p.policyVersion])
      .toEqual(['dev-1', 'M-1', '07'.repeat(32), 3, 3_600_000, 41, 9]);
    expect(p.limits.map((l) => [l.currency, Number(l.perTransactionLimitMinor), Number(l.cumulativeLimitMinor)])).toEqual([['156', 200_00, 500_00]]);
    expect([Number(p.issuedMs), Number(p.expiresMs)]).toEqual([1_000_000, 1_000_000 + DEFAULT_OFFLINE_POLICY_TTL_MS]);
  });
  it('a policy lifetime, when set, replaces the default', () => {
    expect(Number(decode(offlinePolicyBytes(policy({ offlinePolicyTtlMs: u64(5) }), input)).expiresMs)).toBe(1_000_005);
  });
  it.each([['any verdict but ALLOW', policy(), { allow: false }], ['a policy without offline', policy({ offlineLimits: [] }), {}]])('%s: no limits, offline off, still acknowledging', (_n, p, o) => {
    const d = decode(offlinePolicyBytes(p, { ...input, ...o }));
    expect([d.limits.length, d.maxCount, Number(d.maxAgeMs), Number(d.uploadedThroughCounter)]).toEqual([0, 0, 0, 41]);
  });
  it('the token key signs the label, a zero byte, then the policy bytes', () => {
    expect(Buffer.from(offlinePolicySigningInput(Uint8Array.of(1, 2))).toString('latin1')).toBe('trusttap/offline-policy/v1\u0000\u0001\u0002');
  });
});

describe('an uploaded record approved offline', () => {
  const rec = (o: { amountMinor?: number; currency?: string; pinKsn?: Uint8Array } = {}) => ({ amountMinor: u64(o.amountMinor ?? 100), currency: o.currency ?? '156', pinKsn: o.pinKsn ?? new Uint8Array(0) });
  it.each<[string, ReturnType<typeof rec>, number, RegExp | '']>([
    ['within the limit, no CVM', rec(), pay.Cvm.CVM_NO_CVM, ''],
    ['exactly the per-payment limit, CDCVM', rec({ amountMinor: 200_00 }), pay.Cvm.CVM_CDCVM, ''],
    ['one above the per-payment limit', rec({ amountMinor: 200_01 }), pay.Cvm.CVM_NO_CVM, /the amount 20001 is above the offline per-transaction limit 20000/],
    ['with a PIN KSN', rec({ pinKsn: Uint8Array.of(1) }), pay.Cvm.CVM_NO_CVM, /cannot carry a PIN/],
    ['claiming online PIN', rec(), pay.Cvm.CVM_ONLINE_PIN, /cannot carry a PIN/],
    ['a currency the offline policy has no limit for', rec({ currency: '840' }), pay.Cvm.CVM_NO_CVM, /no limit for currency 840/],
  ])('%s', (_n, r, cvm, want) => {
    const why = offlineRecordProblem(policy(), r, cvm);
    if (want === '') expect(why).toBe('');
    else expect(why).toMatch(want);
  });
});
