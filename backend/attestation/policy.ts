// The versioned attestation policy (proto/attest.proto Policy) and the verdict rules. The TA
// hash allowlist comes only from manifests whose Ed25519 signature verifies with the trusted
// manifest key (common/manifest.ts). Measurement failures and root/hook/emulator/debugger
// or a changed device id suspend the device; an IP change, a location jump or developer options
// ask for a step-up; relay and HCE-malware signals (issue 14) suspend or ask for a step-up as
// the policy's relay_suspend / hce_suspend say; anything else is allowed.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { verifyManifestSignature, parseManifest, sha256Hex, type Manifest } from '../../common/manifest.ts';
import type { DeviceRow, VerdictName } from '../store/repository.ts';
import { hex, u64, num } from '../util.ts';
import { compareTaVersions, parseTaVersion } from '../../common/ta-version.ts';

/** Checks the revocation lists an administrator sends (policy PUT); throws with the reason. */
export function checkRevocations(p: trusttap.attest.v1.IPolicy): void {
  for (const s of p.revokedManifestSha256 ?? []) if (s.length !== 32) throw new Error('revoked_manifest_sha256 entries are 32-byte SHA-256 values');
  for (const f of p.taMinVersions ?? []) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(f.uuid ?? '')) throw new Error(`ta_min_versions: ${JSON.stringify(f.uuid)} is not a lower-case UUID`);
    parseTaVersion(f.minVersion ?? '');
  }
}

const a = trusttap.attest.v1;
export type Policy = trusttap.attest.v1.Policy;

export const DEFAULTS = {
  nonceTtlMs: 60_000,
  tokenTtlMs: 120_000,
  heartbeatTimeoutMs: 15 * 60_000,
  locationJumpKm: 500,
};

export interface ManifestUpload { bytes: Uint8Array; signature: string }

/** Verifies a manifest's signature, then parses it (throws LoadError). */
export function verifiedManifest(m: ManifestUpload, trustedKeyPem: string | Uint8Array): { manifest: Manifest; sha256: string } {
  verifyManifestSignature(m.bytes, m.signature, trustedKeyPem);
  return { manifest: parseManifest(m.bytes), sha256: sha256Hex(m.bytes) };
}

/** A policy allowing exactly the release TAs of these (verified) manifests. */
export function policyFromManifests(version: number, manifests: { manifest: Manifest; sha256: string }[], base?: Policy | null): Policy {
  const tas = new Map<string, trusttap.attest.v1.IAllowedTa>();
  for (const p of base?.tas ?? []) tas.set(`${p.uuid}/${hex(p.sha256 ?? new Uint8Array(0))}`, p);
  for (const { manifest } of manifests) {
    for (const t of manifest.tas) if (!t.debug) tas.set(`${t.uuid}/${t.sha256}`, { name: t.name, uuid: t.uuid, version: t.version, sha256: Buffer.from(t.sha256, 'hex') });
  }
  const shas = new Set((base?.manifestSha256 ?? []).map((b) => hex(b)));
  for (const m of manifests) shas.add(m.sha256);
  return a.Policy.create({
    version,
    runtimeVersions: base?.runtimeVersions?.length ? base.runtimeVersions : ['0.1.0'],
    bootStates: base?.bootStates?.length ? base.bootStates : [a.BootState.BOOT_STATE_VERIFIED],
    manifestSha256: [...shas].map((s) => Buffer.from(s, 'hex')),
    tas: [...tas.values()],
    requiredTas: base?.requiredTas?.length ? base.requiredTas : ['attest'],
    nonceTtlMs: base ? base.nonceTtlMs : u64(DEFAULTS.nonceTtlMs),
    tokenTtlMs: base ? base.tokenTtlMs : u64(DEFAULTS.tokenTtlMs),
    heartbeatTimeoutMs: base ? base.heartbeatTimeoutMs : u64(DEFAULTS.heartbeatTimeoutMs),
    locationJumpKm: base ? base.locationJumpKm : DEFAULTS.locationJumpKm,
    developerOptionsStepUp: base ? base.developerOptionsStepUp : true,
    emulatorSuspend: base ? base.emulatorSuspend : true,
    debuggerSuspend: base ? base.debuggerSuspend : true,
    relaySuspend: base ? base.relaySuspend : false,
    hceSuspend: base ? base.hceSuspend : true,
    relayDecline: base ? base.relayDecline : true,
    clientPlatformMeasuredOnly: base ? base.clientPlatformMeasuredOnly : false,
    revokedManifestSha256: base?.revokedManifestSha256 ?? [],
    taMinVersions: base?.taMinVersions ?? [],
    offlineLimits: base?.offlineLimits ?? [],
    offlineMaxCount: base?.offlineMaxCount ?? 0,
    offlineMaxAgeMs: base ? base.offlineMaxAgeMs : u64(0),
    offlinePolicyTtlMs: base ? base.offlinePolicyTtlMs : u64(0),
  });
}

export interface Assessment {
  verdict: Exclude<VerdictName, ''>;
  /** Every finding, "suspend: ..." / "step-up: ...". */
  reasons: string[];
}

/** Great-circle distance in km between two E6 coordinates (haversine). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = (d: number) => (d / 1e6) * (Math.PI / 180);
  const dLat = r(lat2 - lat1), dLon = r(lon2 - lon1);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(r(lat1)) * Math.cos(r(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The REE-signal rules (also applied to heartbeats). device: what was last seen, or null. */
export function assessSignals(ree: trusttap.attest.v1.IReeSignals | null | undefined, device: DeviceRow | null, policy: Policy): string[] {
  const out: string[] = [];
  if (!ree) return ['step-up: no REE health signals'];
  if (ree.rooted) out.push('suspend: root detected');
  if (ree.hookingFramework) out.push('suspend: hooking framework detected');
  if (ree.emulator) out.push(`${policy.emulatorSuspend ? 'suspend' : 'step-up'}: running on an emulator`);
  if (ree.debuggerAttached) out.push(`${policy.debuggerSuspend ? 'suspend' : 'step-up'}: debugger attached`);
  if (ree.developerOptions && policy.developerOptionsStepUp) out.push('step-up: developer options enabled');
  if (device?.reeDeviceId && ree.deviceId !== device.reeDeviceId) out.push('suspend: device id changed');
  if (device?.lastIp && ree.ipAddress && ree.ipAddress !== device.lastIp) out.push('step-up: IP address changed');
  out.push(...assessRelay(ree, policy));
  const loc = ree.location;
  if (loc && device && device.lastLatE6 !== null && device.lastLonE6 !== null) {
    const km = distanceKm(device.lastLatE6, device.lastLonE6, loc.latitudeE6 ?? 0, loc.longitudeE6 ?? 0);
    if (km > (policy.locationJumpKm || DEFAULTS.locationJumpKm)) out.push(`step-up: location jumped ${Math.round(km)} km`);
  }
  return out;
}

/** Relay and HCE-malware signals (issue 14): a relay seen by the kernel's relay resistance
 *  protocol or by APDU round trips, an HCE payment service or an accessibility service that can
 *  reach the payment app. An inaccurate relay resistance measurement alone only asks for a step-up. */
export function assessRelay(ree: trusttap.attest.v1.IReeSignals, policy: Policy): string[] {
  const out: string[] = [];
  const relay = policy.relaySuspend ? 'suspend' : 'step-up', hce = policy.hceSuspend ? 'suspend' : 'step-up';
  const r = ree.relay;
  if (r?.rrpTimeLimitsExceeded) out.push(`${relay}: relay suspected: relay resistance time limits exceeded on ${r.rrpTimeLimitsExceeded} of ${r.cardReads ?? 0} card reads`);
  if (r?.apduTimingAnomalies) out.push(`${relay}: relay suspected: ${r.apduTimingAnomalies} APDU round trips over the anomaly threshold (slowest ${Math.round((r.slowestApduUs ?? 0) / 1000)} ms)`);
  if (r?.rrpThresholdExceeded) out.push(`step-up: relay resistance threshold exceeded on ${r.rrpThresholdExceeded} of ${r.cardReads ?? 0} card reads`);
  if (ree.hcePaymentService) out.push(`${hce}: another app is registered as an HCE payment service`);
  if (ree.accessibilityPaymentAccess) out.push(`${hce}: an accessibility service can reach the payment app`);
  return out;
}

/** Measurements against the policy: every failure suspends. */
export function assessMeasurements(m: trusttap.attest.v1.IMeasurements | null | undefined, policy: Policy): string[] {
  const out: string[] = [];
  if (!m) return ['suspend: no measurements'];
  if (!policy.runtimeVersions.includes(m.runtimeVersion ?? '')) out.push(`suspend: runtime version ${m.runtimeVersion} is not allowed`);
  if (!policy.bootStates.includes(m.bootState ?? 0)) out.push(`suspend: boot state ${a.BootState[m.bootState ?? 0] ?? m.bootState} is not allowed`);
  const manifest = hex(m.manifestSha256 ?? new Uint8Array(0));
  if ((policy.revokedManifestSha256 ?? []).some((s) => hex(s) === manifest)) out.push(`suspend: revoked: the TAs were loaded from manifest ${manifest.slice(0, 16)}…, which is revoked`);
  else if (!policy.manifestSha256.some((s) => hex(s) === manifest)) out.push('suspend: the TAs were not loaded from an allowed signed manifest');
  const floors = new Map((policy.taMinVersions ?? []).map((f) => [(f.uuid ?? '').replace(/-/g, '').toLowerCase(), f.minVersion ?? '']));
  const allowed = new Set(policy.tas.map((t) => `${(t.uuid ?? '').replace(/-/g, '')}/${hex(t.sha256 ?? new Uint8Array(0))}`));
  const names = new Set<string>();
  for (const t of m.tas ?? []) {
    names.add(t.name ?? '');
    const floor = floors.get(hex(t.uuid ?? new Uint8Array(0)));
    if (floor && olderThan(t.version ?? '', floor)) out.push(`suspend: revoked: TA ${t.name} version ${t.version} is below the minimum ${floor} the policy accepts`);
    if (!allowed.has(`${hex(t.uuid ?? new Uint8Array(0))}/${hex(t.sha256 ?? new Uint8Array(0))}`)) out.push(`suspend: TA ${t.name} image ${hex(t.sha256 ?? new Uint8Array(0)).slice(0, 16)}… is not on the allowlist`);
  }
  for (const r of policy.requiredTas) if (!names.has(r)) out.push(`suspend: required TA ${r} is not loaded`);
  return out;
}

/** A version that does not parse counts as older than any floor. */
function olderThan(version: string, floor: string): boolean {
  try {
    return compareTaVersions(version, floor) < 0;
  } catch {
    return true;
  }
}

export function verdictOf(reasons: string[]): Assessment {
  const verdict = reasons.some((r) => r.startsWith('suspend')) ? 'suspend' : reasons.some((r) => r.startsWith('step-up')) ? 'step-up' : 'allow';
  return { verdict, reasons };
}

export const ttl = (policy: Policy, k: 'nonceTtlMs' | 'tokenTtlMs' | 'heartbeatTimeoutMs') => num(policy[k]) || DEFAULTS[k];

/** The revoked manifests of both lists, each once. */
export function unionBytes(a: Uint8Array[], b: Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, Uint8Array>();
  for (const x of [...a, ...b]) seen.set(hex(x), x);
  return [...seen.values()];
}

/** Per TA, the higher of the two minimum versions: a floor is only ever raised. */
export function raiseFloors(a: trusttap.attest.v1.ITaVersionFloor[], b: trusttap.attest.v1.ITaVersionFloor[]): trusttap.attest.v1.ITaVersionFloor[] {
  const out = new Map<string, string>();
  for (const f of [...a, ...b]) {
    const cur = out.get(f.uuid ?? '');
    if (!cur || compareTaVersions(f.minVersion ?? '', cur) > 0) out.set(f.uuid ?? '', f.minVersion ?? '');
  }
  return [...out].map(([uuid, minVersion]) => ({ uuid, minVersion }));
}
