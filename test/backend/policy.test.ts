// The attestation policy's verdict rules (backend/attestation/policy.ts): every measurement that
// is not allowed suspends the device, every REE signal has its verdict, and the policy built
// from manifests allows exactly their release TAs.
import { describe, expect, it } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { assessMeasurements, assessSignals, distanceKm, policyFromManifests, ttl, verdictOf, verifiedManifest, DEFAULTS, type Policy } from '../../backend/attestation/policy.ts';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { LoadError } from '../../common/load-error.ts';
import type { DeviceRow } from '../../backend/store/repository.ts';
import type { Manifest, ManifestTa } from '../../common/manifest.ts';
import { u64 } from '../../backend/util.ts';

const a = trusttap.attest.v1;
const sha = (b: number) => 'ab'.repeat(31) + b.toString(16).padStart(2, '0');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const UUID_ATTEST = '11111111-2222-3333-4444-555555555555';
const UUID_PIN = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const ta = (name: string, uuid: string, s: string, debug = false) => ({ name, uuid, version: '1.0.0', sha256: s, debug }) as unknown as ManifestTa;
const manifest = (...tas: ManifestTa[]) => ({ tas }) as unknown as Manifest;
const M1 = sha(1), M2 = sha(2);

const basePolicy = (): Policy => policyFromManifests(3, [
  { manifest: manifest(ta('attest', UUID_ATTEST, sha(10)), ta('pinpad', UUID_PIN, sha(11)), ta('pinpad', UUID_PIN, sha(12), true)), sha256: M1 },
]);

const measured = (o: Partial<trusttap.attest.v1.IMeasurements> = {}): trusttap.attest.v1.IMeasurements => ({
  runtimeVersion: '0.1.0', bootState: a.BootState.BOOT_STATE_VERIFIED, manifestSha256: bytes(M1),
  tas: [
    { name: 'attest', uuid: bytes(UUID_ATTEST.replace(/-/g, '')), sha256: bytes(sha(10)) },
    { name: 'pinpad', uuid: bytes(UUID_PIN.replace(/-/g, '')), sha256: bytes(sha(11)) },
  ],
  ...o,
});

describe('policy from signed manifests', () => {
  it('allows the release TAs, never a debug build, with the defaults', () => {
    const p = basePolicy();
    expect(p.version).toBe(3);
    expect(p.tas.map((t) => `${t.name}/${Buffer.from(t.sha256!).toString('hex')}`)).toEqual([`attest/${sha(10)}`, `pinpad/${sha(11)}`]);
    expect(p.manifestSha256.map((b) => Buffer.from(b).toString('hex'))).toEqual([M1]);
    expect(p.runtimeVersions).toEqual(['0.1.0']);
    expect(p.bootStates).toEqual([a.BootState.BOOT_STATE_VERIFIED]);
    expect(p.requiredTas).toEqual(['attest']);
    expect([Number(p.nonceTtlMs), Number(p.tokenTtlMs), Number(p.heartbeatTimeoutMs), p.locationJumpKm]).toEqual([DEFAULTS.nonceTtlMs, DEFAULTS.tokenTtlMs, DEFAULTS.heartbeatTimeoutMs, DEFAULTS.locationJumpKm]);
    expect([p.developerOptionsStepUp, p.emulatorSuspend, p.debuggerSuspend]).toEqual([true, true, true]);
    // Issue 14: a relay asks for a step-up, HCE / accessibility malware suspends, relayed payments are declined.
    expect([p.relaySuspend, p.hceSuspend, p.relayDecline]).toEqual([false, true, true]);
  });
  it('a new manifest adds to the base policy and keeps its settings', () => {
    const base = a.Policy.create({ ...basePolicy(), runtimeVersions: ['0.2.0'], bootStates: [a.BootState.BOOT_STATE_UNLOCKED], requiredTas: ['attest', 'pinpad'],
      nonceTtlMs: u64(1), tokenTtlMs: u64(2), heartbeatTimeoutMs: u64(3), locationJumpKm: 4, developerOptionsStepUp: false, emulatorSuspend: false, debuggerSuspend: false,
      offlineLimits: [{ currency: '156', perTransactionLimitMinor: u64(5), cumulativeLimitMinor: u64(6) }], offlineMaxCount: 7, offlineMaxAgeMs: u64(8), offlinePolicyTtlMs: u64(9),
      relaySuspend: true, hceSuspend: false, relayDecline: false });
    const p = policyFromManifests(4, [{ manifest: manifest(ta('attest', UUID_ATTEST, sha(20)), ta('attest', UUID_ATTEST, sha(10))), sha256: M2 }], base);
    expect(p.version).toBe(4);
    expect(p.tas.map((t) => Buffer.from(t.sha256!).toString('hex'))).toEqual([sha(10), sha(11), sha(20)]);
    expect(p.manifestSha256.map((b) => Buffer.from(b).toString('hex'))).toEqual([M1, M2]);
    expect([p.runtimeVersions, p.bootStates, p.requiredTas]).toEqual([['0.2.0'], [a.BootState.BOOT_STATE_UNLOCKED], ['attest', 'pinpad']]);
    expect([Number(p.nonceTtlMs), Number(p.tokenTtlMs), Number(p.heartbeatTimeoutMs), p.locationJumpKm]).toEqual([1, 2, 3, 4]);
    expect([p.developerOptionsStepUp, p.emulatorSuspend, p.debuggerSuspend]).toEqual([false, false, false]);
    // Issue 14 §2: the offline settings stay too.
    expect(p.offlineLimits.map((l) => [l.currency, Number(l.perTransactionLimitMinor), Number(l.cumulativeLimitMinor)])).toEqual([['156', 5, 6]]);
    expect([p.offlineMaxCount, Number(p.offlineMaxAgeMs), Number(p.offlinePolicyTtlMs)]).toEqual([7, 8, 9]);
    expect([p.relaySuspend, p.hceSuspend, p.relayDecline]).toEqual([true, false, false]);
  });
  it('a first policy takes no payment offline', () => {
    const p = basePolicy();
    expect([p.offlineLimits, p.offlineMaxCount, Number(p.offlineMaxAgeMs), Number(p.offlinePolicyTtlMs)]).toEqual([[], 0, 0, 0]);
  });
  it('time limits fall back to the defaults when the policy has none', () => {
    const p = a.Policy.create({});
    expect([ttl(p, 'nonceTtlMs'), ttl(p, 'tokenTtlMs'), ttl(p, 'heartbeatTimeoutMs')]).toEqual([DEFAULTS.nonceTtlMs, DEFAULTS.tokenTtlMs, DEFAULTS.heartbeatTimeoutMs]);
    expect(ttl(basePolicy(), 'tokenTtlMs')).toBe(DEFAULTS.tokenTtlMs);
    expect(ttl(a.Policy.create({ tokenTtlMs: u64(5) }), 'tokenTtlMs')).toBe(5);
  });
});

describe('a manifest is taken only with a signature by the trusted key', () => {
  const bytes = new Uint8Array(readFileSync(new URL('../../build/manifest.json', import.meta.url)));
  const signature = readFileSync(new URL('../../build/manifest.sig', import.meta.url), 'utf8');
  const key = readFileSync(new URL('../../build/keys/dev-signing-key.pub.pem', import.meta.url));
  it('the built manifest, signed with the development key', () => {
    const v = verifiedManifest({ bytes, signature }, key);
    expect(v.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(v.manifest.tas.map((t) => t.name)).toContain('attest');
  });
  it('one byte changed, or no signature, is refused', () => {
    const changed = bytes.slice();
    changed[10] ^= 1;
    expect(() => verifiedManifest({ bytes: changed, signature }, key)).toThrow(LoadError);
    expect(() => verifiedManifest({ bytes, signature: '' }, key)).toThrow(LoadError);
  });
});

describe('measurements: every failure suspends', () => {
  const table: Array<[string, trusttap.attest.v1.IMeasurements | null, string[]]> = [
    ['the allowed runtime, manifest and TAs', measured(), []],
    ['no measurements', null, ['suspend: no measurements']],
    ['a runtime version not allowed', measured({ runtimeVersion: '0.0.9' }), ['suspend: runtime version 0.0.9 is not allowed']],
    ['no runtime version', measured({ runtimeVersion: '' }), ['suspend: runtime version  is not allowed']],
    ['no boot state', measured({ bootState: null }), ['suspend: boot state BOOT_STATE_UNSPECIFIED is not allowed']],
    ['a self-signed boot', measured({ bootState: a.BootState.BOOT_STATE_SELF_SIGNED }), ['suspend: boot state BOOT_STATE_SELF_SIGNED is not allowed']],
    ['an unknown boot state', measured({ bootState: 99 as trusttap.attest.v1.BootState }), ['suspend: boot state 99 is not allowed']],
    ['an unlocked boot', measured({ bootState: a.BootState.BOOT_STATE_UNLOCKED }), ['suspend: boot state BOOT_STATE_UNLOCKED is not allowed']],
    ['a manifest not allowed', measured({ manifestSha256: bytes(M2) }), ['suspend: the TAs were not loaded from an allowed signed manifest']],
    ['no manifest', measured({ manifestSha256: new Uint8Array(0) }), ['suspend: the TAs were not loaded from an allowed signed manifest']],
    ['a TA image not on the allowlist', measured({ tas: [{ name: 'attest', uuid: bytes(UUID_ATTEST.replace(/-/g, '')), sha256: bytes(sha(12)) }] }),
      [`suspend: TA attest image ${sha(12).slice(0, 16)}… is not on the allowlist`]],
    ['the debug build of an allowed TA', measured({ tas: [...measured().tas!, { name: 'pinpad', uuid: bytes(UUID_PIN.replace(/-/g, '')), sha256: bytes(sha(12)) }] }),
      [`suspend: TA pinpad image ${sha(12).slice(0, 16)}… is not on the allowlist`]],
    ['an allowed image under another UUID', measured({ tas: [{ name: 'attest', uuid: bytes(UUID_PIN.replace(/-/g, '')), sha256: bytes(sha(10)) }] }),
      [`suspend: TA attest image ${sha(10).slice(0, 16)}… is not on the allowlist`]],
    ['the required attest TA missing', measured({ tas: [measured().tas![1]!] }), ['suspend: required TA attest is not loaded']],
    ['no TAs', measured({ tas: [] }), ['suspend: required TA attest is not loaded']],
    ['no TA list at all', measured({ tas: undefined }), ['suspend: required TA attest is not loaded']],
  ];
  for (const [what, m, reasons] of table) {
    it(what, () => {
      const r = assessMeasurements(m, basePolicy());
      expect(r).toEqual(reasons);
      expect(verdictOf(r).verdict).toBe(reasons.length ? 'suspend' : 'allow');
    });
  }
  it('any one of the allowed manifests will do', () => {
    const two = policyFromManifests(5, [{ manifest: manifest(), sha256: M2 }], basePolicy());
    expect(assessMeasurements(measured({ manifestSha256: bytes(M1) }), two)).toEqual([]);
    expect(assessMeasurements(measured({ manifestSha256: bytes(M2) }), two)).toEqual([]);
  });
  it('an allowed TA listed without a UUID matches a measurement without one', () => {
    const p = a.Policy.create({ ...basePolicy(), tas: [{ name: 'attest', sha256: bytes(sha(10)) }] });
    expect(assessMeasurements(measured({ tas: [{ name: 'attest', sha256: bytes(sha(10)) }] }), p)).toEqual([]);
    expect(assessMeasurements(measured({ tas: [{ name: 'attest', uuid: bytes(UUID_ATTEST.replace(/-/g, '')), sha256: bytes(sha(10)) }] }), p)).toHaveLength(1);
  });
  it('a runtime version or TA name not measured counts as the empty one', () => {
    const p = a.Policy.create({ ...basePolicy(), runtimeVersions: [''], requiredTas: [''], tas: [...basePolicy().tas, { name: '', sha256: bytes(sha(13)) }] });
    expect(assessMeasurements(measured({ runtimeVersion: undefined, tas: [{ sha256: bytes(sha(13)) }] }), p)).toEqual([]);
    expect(assessMeasurements(measured({ runtimeVersion: undefined, tas: [{ sha256: bytes(sha(13)) }] }), basePolicy())).toEqual([
      'suspend: runtime version undefined is not allowed', `suspend: TA undefined image ${sha(13).slice(0, 16)}… is not on the allowlist`, 'suspend: required TA attest is not loaded',
    ]);
  });
  it('every failure is listed', () => {
    expect(assessMeasurements(measured({ runtimeVersion: 'x', bootState: a.BootState.BOOT_STATE_UNLOCKED, manifestSha256: bytes(M2), tas: [] }), basePolicy())).toHaveLength(4);
  });
});

const device = (o: Partial<DeviceRow> = {}) => ({ reeDeviceId: 'dev-1', lastIp: '10.0.0.1', lastLatE6: 31_230_000, lastLonE6: 121_470_000, ...o }) as DeviceRow;
const signals = (o: Partial<trusttap.attest.v1.IReeSignals> = {}): trusttap.attest.v1.IReeSignals =>
  ({ deviceId: 'dev-1', ipAddress: '10.0.0.1', location: { latitudeE6: 31_230_000, longitudeE6: 121_470_000 }, ...o });

describe('REE signals', () => {
  const relaxed = () => a.Policy.create({ ...basePolicy(), emulatorSuspend: false, debuggerSuspend: false, developerOptionsStepUp: false, locationJumpKm: 100 });
  const table: Array<[string, trusttap.attest.v1.IReeSignals | null, DeviceRow | null, Policy, string[], string]> = [
    ['clean, as last seen', signals(), device(), basePolicy(), [], 'allow'],
    ['no signals', null, device(), basePolicy(), ['step-up: no REE health signals'], 'step-up'],
    ['rooted', signals({ rooted: true }), device(), basePolicy(), ['suspend: root detected'], 'suspend'],
    ['hooking framework', signals({ hookingFramework: true }), device(), basePolicy(), ['suspend: hooking framework detected'], 'suspend'],
    ['emulator', signals({ emulator: true }), device(), basePolicy(), ['suspend: running on an emulator'], 'suspend'],
    ['emulator, policy: step-up', signals({ emulator: true }), device(), relaxed(), ['step-up: running on an emulator'], 'step-up'],
    ['debugger', signals({ debuggerAttached: true }), device(), basePolicy(), ['suspend: debugger attached'], 'suspend'],
    ['debugger, policy: step-up', signals({ debuggerAttached: true }), device(), relaxed(), ['step-up: debugger attached'], 'step-up'],
    ['developer options', signals({ developerOptions: true }), device(), basePolicy(), ['step-up: developer options enabled'], 'step-up'],
    ['developer options, policy: allowed', signals({ developerOptions: true }), device(), relaxed(), [], 'allow'],
    ['device id changed', signals({ deviceId: 'dev-2' }), device(), basePolicy(), ['suspend: device id changed'], 'suspend'],
    ['first contact: no device id yet', signals({ deviceId: 'dev-2' }), device({ reeDeviceId: '' }), basePolicy(), [], 'allow'],
    ['IP changed', signals({ ipAddress: '10.0.0.2' }), device(), basePolicy(), ['step-up: IP address changed'], 'step-up'],
    ['IP not reported', signals({ ipAddress: '' }), device(), basePolicy(), [], 'allow'],
    ['no IP seen before', signals({ ipAddress: '10.0.0.2' }), device({ lastIp: '' }), basePolicy(), [], 'allow'],
    ['Shanghai to Beijing (1067 km)', signals({ location: { latitudeE6: 39_900_000, longitudeE6: 116_400_000 } }), device(), basePolicy(), ['step-up: location jumped 1067 km'], 'step-up'],
    ['Shanghai to Hangzhou (165 km) under the default 500 km', signals({ location: { latitudeE6: 30_270_000, longitudeE6: 120_150_000 } }), device(), basePolicy(), [], 'allow'],
    ['Shanghai to Hangzhou with a 100 km policy', signals({ location: { latitudeE6: 30_270_000, longitudeE6: 120_150_000 } }), device(), relaxed(), ['step-up: location jumped 165 km'], 'step-up'],
    ['no location seen before', signals({ location: { latitudeE6: 0, longitudeE6: 0 } }), device({ lastLatE6: null }), basePolicy(), [], 'allow'],
    ['no longitude seen before', signals({ location: { latitudeE6: 0, longitudeE6: 0 } }), device({ lastLonE6: null }), basePolicy(), [], 'allow'],
    ['no location reported', signals({ location: null }), device(), basePolicy(), [], 'allow'],
    ['a new device (nothing seen)', signals({ deviceId: 'x', ipAddress: 'y' }), null, basePolicy(), [], 'allow'],
    // Issue 14: relay and HCE-malware signals.
    ['relay: RRP time limits exceeded', signals({ relay: { cardReads: 3, rrpPerformed: 2, rrpTimeLimitsExceeded: 1 } }), device(), basePolicy(), ['step-up: relay suspected: relay resistance time limits exceeded on 1 of 3 card reads'], 'step-up'],
    ['relay: RRP time limits exceeded, policy: suspend', signals({ relay: { cardReads: 1, rrpTimeLimitsExceeded: 1 } }), device(), a.Policy.create({ ...basePolicy(), relaySuspend: true }), ['suspend: relay suspected: relay resistance time limits exceeded on 1 of 1 card reads'], 'suspend'],
    ['relay: APDU timing anomalies', signals({ relay: { cardReads: 1, apduTimingAnomalies: 4, slowestApduUs: 151_499 } }), device(), basePolicy(), ['step-up: relay suspected: 4 APDU round trips over the anomaly threshold (slowest 151 ms)'], 'step-up'],
    ['relay: APDU timing anomalies, policy: suspend', signals({ relay: { apduTimingAnomalies: 1 } }), device(), a.Policy.create({ ...basePolicy(), relaySuspend: true }), ['suspend: relay suspected: 1 APDU round trips over the anomaly threshold (slowest 0 ms)'], 'suspend'],
    ['relay: RRP threshold exceeded only asks for a step-up, even with relay_suspend', signals({ relay: { cardReads: 2, rrpThresholdExceeded: 1 } }), device(), a.Policy.create({ ...basePolicy(), relaySuspend: true }), ['step-up: relay resistance threshold exceeded on 1 of 2 card reads'], 'step-up'],
    ['relay: reads that passed RRP are no finding', signals({ relay: { cardReads: 5, rrpPerformed: 5, slowestApduUs: 2_000 } }), device(), basePolicy(), [], 'allow'],
    ['HCE payment service', signals({ hcePaymentService: true }), device(), basePolicy(), ['suspend: another app is registered as an HCE payment service'], 'suspend'],
    ['HCE payment service, policy: step-up', signals({ hcePaymentService: true }), device(), a.Policy.create({ ...basePolicy(), hceSuspend: false }), ['step-up: another app is registered as an HCE payment service'], 'step-up'],
    ['accessibility service', signals({ accessibilityPaymentAccess: true }), device(), basePolicy(), ['suspend: an accessibility service can reach the payment app'], 'suspend'],
    ['accessibility service, policy: step-up', signals({ accessibilityPaymentAccess: true }), device(), a.Policy.create({ ...basePolicy(), hceSuspend: false }), ['step-up: an accessibility service can reach the payment app'], 'step-up'],
    ['rooted and a new IP: suspend wins', signals({ rooted: true, ipAddress: '10.9.9.9' }), device(), basePolicy(), ['suspend: root detected', 'step-up: IP address changed'], 'suspend'],
  ];
  for (const [what, s, d, p, reasons, verdict] of table) {
    it(what, () => {
      const r = assessSignals(s, d, p);
      expect(r).toEqual(reasons);
      expect(verdictOf(r)).toEqual({ verdict, reasons });
    });
  }
  it('a policy without a jump distance uses the default 500 km', () => {
    const none = a.Policy.create({ ...basePolicy(), locationJumpKm: 0 });
    expect(assessSignals(signals({ location: { latitudeE6: 30_270_000, longitudeE6: 120_150_000 } }), device(), none)).toEqual([]);
    expect(assessSignals(signals({ location: { latitudeE6: 39_900_000, longitudeE6: 116_400_000 } }), device(), none)).toEqual(['step-up: location jumped 1067 km']);
  });
  it('a location reported without coordinates counts from 0,0', () => {
    expect(assessSignals(signals({ location: {} }), device(), basePolicy())).toEqual([`step-up: location jumped ${Math.round(distanceKm(31_230_000, 121_470_000, 0, 0))} km`]);
  });
  it('exactly at the jump distance is no jump; beyond it is', () => {
    const km = distanceKm(31_230_000, 121_470_000, 30_270_000, 120_150_000);
    const at = a.Policy.create({ ...basePolicy(), locationJumpKm: Math.ceil(km) });
    const under = a.Policy.create({ ...basePolicy(), locationJumpKm: Math.floor(km) });
    const loc = signals({ location: { latitudeE6: 30_270_000, longitudeE6: 120_150_000 } });
    expect(assessSignals(loc, device(), at)).toEqual([]);
    expect(assessSignals(loc, device(), under)).toHaveLength(1);
  });
});

describe('great-circle distance', () => {
  it('known distances', () => {
    expect(distanceKm(0, 0, 0, 0)).toBe(0);
    expect(Math.round(distanceKm(0, 0, 0, 180_000_000))).toBe(20015); // half the equator
    expect(Math.round(distanceKm(90_000_000, 0, -90_000_000, 0))).toBe(20015); // pole to pole
    expect(Math.round(distanceKm(0, 0, 1_000_000, 0))).toBe(111); // one degree of latitude
    expect(Math.round(distanceKm(60_000_000, 0, 60_000_000, 1_000_000))).toBe(56); // one degree of longitude at 60°
    expect(Math.round(distanceKm(31_230_000, 121_470_000, 39_900_000, 116_400_000))).toBe(1067);
  });
  it('is symmetric', () => expect(distanceKm(1, 2, 3_000_000, 4_000_000)).toBeCloseTo(distanceKm(3_000_000, 4_000_000, 1, 2), 9));
});

describe('verdict', () => {
  const table: Array<[string[], string]> = [
    [[], 'allow'],
    [['step-up: a'], 'step-up'],
    [['suspend: a'], 'suspend'],
    [['step-up: a', 'suspend: b'], 'suspend'],
    [['note: a'], 'allow'],
  ];
  for (const [reasons, verdict] of table) it(`${JSON.stringify(reasons)} → ${verdict}`, () => expect(verdictOf(reasons).verdict).toBe(verdict));
});
