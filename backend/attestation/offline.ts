// Offline verification of a saved evidence blob against a signed build manifest, for auditors
// (`trusttap verify-evidence`): no server, no database, only the evidence bytes, manifest.json,
// manifest.sig and the trusted manifest key.
import { decodeCanonical } from '../../common/canonical.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { verifyManifestSignature, parseManifest, sha256Hex } from '../../common/manifest.ts';
import { verifyP256 } from '../crypto/p256.ts';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { hex, num } from '../util.ts';

const a = trusttap.attest.v1;

export interface Check { name: string; ok: boolean; detail: string }
export interface OfflineReport { ok: boolean; checks: Check[]; evidence: trusttap.attest.v1.Evidence | null }

export interface OfflineInput {
  /** An encoded SignedEvidence. */
  signedEvidence: Uint8Array;
  manifest: Uint8Array;
  manifestSignature: string | null;
  trustedKeyPem: string | Uint8Array;
  /** Expected device key (65 bytes) and nonce, when the auditor knows them. */
  deviceKey?: Uint8Array;
  nonce?: Uint8Array;
}

export function verifyEvidenceOffline(i: OfflineInput): OfflineReport {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  let signed: trusttap.attest.v1.SignedEvidence;
  let ev: trusttap.attest.v1.Evidence | null = null;
  try {
    signed = decodeCanonical(a.SignedEvidence, i.signedEvidence, 'the SignedEvidence');
    ev = decodeCanonical(a.Evidence, signed.evidence, 'the evidence');
  } catch (e) {
    add('decode', false, `not a canonical SignedEvidence: ${(e as Error).message}`);
    return { ok: false, checks, evidence: null };
  }
  add('format', ev.formatVersion === 1, `evidence format ${ev.formatVersion}`);
  const key = i.deviceKey ?? ev.devicePublicKey;
  if (i.deviceKey) add('device key', hex(i.deviceKey) === hex(ev.devicePublicKey), `evidence names key ${hex(ev.devicePublicKey).slice(0, 16)}…`);
  add('signature', verifyP256(key, labelled(LABEL.evidence, signed.evidence), signed.signature),
    `ECDSA P-256/SHA-256 over "${LABEL.evidence}" 0x00 || ${signed.evidence.length} evidence bytes, by ${i.deviceKey ? 'the given' : 'the enclosed'} device key`);
  if (i.nonce) add('nonce', hex(i.nonce) === hex(ev.nonce), `nonce ${hex(ev.nonce)}`);
  let manifestOk = true;
  try {
    verifyManifestSignature(i.manifest, i.manifestSignature, i.trustedKeyPem);
    add('manifest signature', true, 'manifest.sig verifies with the trusted key');
  } catch (e) {
    manifestOk = false;
    add('manifest signature', false, (e as Error).message);
  }
  const m = ev.measurements as trusttap.attest.v1.Measurements | null;
  if (!m) {
    add('measurements', false, 'the evidence has no measurements');
    return { ok: false, checks, evidence: ev };
  }
  add('manifest hash', hex(m.manifestSha256) === sha256Hex(i.manifest), `evidence ${hex(m.manifestSha256).slice(0, 16)}…, file ${sha256Hex(i.manifest).slice(0, 16)}…`);
  if (manifestOk) {
    const manifest = parseManifest(i.manifest);
    for (const t of m.tas as trusttap.attest.v1.TaMeasurement[]) {
      const uuid = hex(t.uuid);
      const entry = manifest.tas.find((x) => !x.debug && x.uuid.replace(/-/g, '') === uuid);
      add(`TA ${t.name}`, !!entry && entry.sha256 === hex(t.sha256), entry ? `sha256 ${hex(t.sha256).slice(0, 16)}… ${entry.sha256 === hex(t.sha256) ? 'matches' : `differs from the manifest's ${entry.sha256.slice(0, 16)}…`}` : 'not in the manifest');
    }
  }
  add('boot state', m.bootState === a.BootState.BOOT_STATE_VERIFIED, a.BootState[m.bootState] ?? String(m.bootState));
  const r = ev.ree;
  const flags = r ? (['rooted', 'debuggerAttached', 'hookingFramework', 'emulator', 'developerOptions'] as const).filter((k) => r[k]) : [];
  add('REE signals', !!r && flags.length === 0, r ? (flags.length ? `raised: ${flags.join(', ')}` : 'none raised') : 'absent');
  void num;
  return { ok: checks.every((c) => c.ok), checks, evidence: ev };
}
