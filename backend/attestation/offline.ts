// Offline verification of a saved evidence blob against a signed build manifest, for auditors
// (`trusttap verify-evidence`): no server, no database, only the evidence bytes, manifest.json,
// manifest.sig and the trusted manifest key. Which device made the evidence is proven only with
// an OEM root the auditor trusts and the device's OEM chain (issue 17 §10): the chain must lead
// from that root to the attest TA's key, and the evidence is then checked with the certified
// key — never with the key the evidence names itself, which anyone can write there.
import { decodeCanonical } from '../../common/canonical.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { verifyManifestSignature, parseManifest, sha256Hex } from '../../common/manifest.ts';
import { verifyP256 } from '../crypto/p256.ts';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { hex, num } from '../util.ts';
import { verifyOemChain, CertificateError } from './certs.ts';

/** The attest TA, the only TA whose key the OEM chain may certify for evidence. */
const ATTEST_TA_UUID = 'a77e5700-0d1c-4e0a-9b5e-a77e57a77e57';

const a = trusttap.attest.v1;

export interface Check { name: string; ok: boolean; detail: string }
export interface OfflineReport {
  ok: boolean;
  checks: Check[];
  evidence: trusttap.attest.v1.Evidence | null;
  /** 'proven': the evidence verifies with a key an OEM chain certifies from the given root;
   * 'unproven': no root was given, so nothing ties the evidence to a device. */
  identity: 'proven' | 'unproven';
}

export interface OfflineInput {
  /** An encoded SignedEvidence. */
  signedEvidence: Uint8Array;
  manifest: Uint8Array;
  manifestSignature: string | null;
  trustedKeyPem: string | Uint8Array;
  /** Expected device key (65 bytes) and nonce, when the auditor knows them. */
  deviceKey?: Uint8Array;
  nonce?: Uint8Array;
  /** The OEM root the auditor trusts (65-byte P-256 point) and the device's OEM chain (an
   * encoded CertificateChain: the attest TA's key ← the device attestation key ← the root). */
  oemRoot?: Uint8Array;
  oemChain?: Uint8Array;
  /** The time the chain's validity is checked at (default: now). */
  nowMs?: number;
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
    return { ok: false, checks, evidence: null, identity: 'unproven' };
  }
  add('format', ev.formatVersion === 1, `evidence format ${ev.formatVersion}`);
  let key = i.deviceKey ?? ev.devicePublicKey;
  let keyIs = i.deviceKey ? 'the given' : 'the enclosed (unproven)';
  let identity: OfflineReport['identity'] = 'unproven';
  if (i.oemRoot) {
    let chain: trusttap.attest.v1.CertificateChain | null = null;
    try {
      chain = decodeCanonical(a.CertificateChain, i.oemChain ?? new Uint8Array(0), 'the OEM chain');
      const certified = verifyOemChain(chain, [{ name: 'the given OEM root', publicKey: i.oemRoot }], ATTEST_TA_UUID, i.nowMs ?? Date.now());
      key = certified.publicKey;
      keyIs = 'the OEM-certified';
      identity = 'proven';
      add('OEM chain', true, `the attest TA key ${hex(certified.publicKey).slice(0, 16)}… is certified by device attestation key serial ${certified.oemSerial}, signed by the given OEM root`);
      if (i.deviceKey) add('device key', hex(i.deviceKey) === hex(certified.publicKey), 'the given device key is the certified one');
    } catch (e) {
      if (!(e instanceof CertificateError) && chain) throw e;
      add('OEM chain', false, `the device is not proven: ${(e as Error).message}`);
    }
    add('evidence key', hex(key) === hex(ev.devicePublicKey), `the evidence names key ${hex(ev.devicePublicKey).slice(0, 16)}…${identity === 'proven' ? ', the chain certifies ' + hex(key).slice(0, 16) + '…' : ''}`);
  } else if (i.deviceKey) {
    add('device key', hex(i.deviceKey) === hex(ev.devicePublicKey), `evidence names key ${hex(ev.devicePublicKey).slice(0, 16)}…`);
  }
  add('signature', verifyP256(key, labelled(LABEL.evidence, signed.evidence), signed.signature),
    `ECDSA P-256/SHA-256 over "${LABEL.evidence}" 0x00 || ${signed.evidence.length} evidence bytes, by ${keyIs} device key`);
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
    return { ok: false, checks, evidence: ev, identity };
  }
  add('manifest hash', hex(m.manifestSha256) === sha256Hex(i.manifest), `evidence ${hex(m.manifestSha256).slice(0, 16)}…, file ${sha256Hex(i.manifest).slice(0, 16)}…`);
  if (manifestOk) {
    const manifest = parseManifest(i.manifest);
    for (const t of m.tas as trusttap.attest.v1.TaMeasurement[]) {
      const uuid = hex(t.uuid);
      const entry = manifest.tas.find((x) => !x.debug && x.uuid.replace(/-/g, '') === uuid);
      add(`TA ${t.name}`, !!entry && entry.sha256 === hex(t.sha256), entry ? `sha256 ${hex(t.sha256).slice(0, 16)}… ${entry.sha256 === hex(t.sha256) ? 'matches' : `differs from the manifest's ${entry.sha256.slice(0, 16)}…`}` : 'not in the manifest');
    }    // Issue 16 §2: the REE client the evidence names. A self-reported bundle hash is checked
    // against the manifest's client release; a platform-measured app only reported.
    const c = ev.client;
    const cSha = hex(c?.sha256 ?? new Uint8Array(0));
    if (c?.source === a.ClientMeasurementSource.CLIENT_MEASUREMENT_SOURCE_SELF_REPORTED && manifest.client) {
      const same = c.name === manifest.client.name && c.version === manifest.client.version && cSha === manifest.client.sha256;
      add('client', same, `${c.name} ${c.version} sha256 ${cSha.slice(0, 16)}… ${same ? 'is the manifest\'s client release' : `is not the manifest's ${manifest.client.name} ${manifest.client.version} (sha256 ${manifest.client.sha256.slice(0, 16)}…)`} (self-reported by the REE)`);
    } else if (c) {
      add('client', true, `${c.name} ${c.version} sha256 ${cSha.slice(0, 16)}… (${a.ClientMeasurementSource[c.source ?? 0] ?? c.source}; not in this manifest: check it against the app's release)`);
    }
  }
  add('boot state', m.bootState === a.BootState.BOOT_STATE_VERIFIED, a.BootState[m.bootState] ?? String(m.bootState));
  const r = ev.ree;
  const flags = r ? (['rooted', 'debuggerAttached', 'hookingFramework', 'emulator', 'developerOptions'] as const).filter((k) => r[k]) : [];
  add('REE signals', !!r && flags.length === 0, r ? (flags.length ? `raised: ${flags.join(', ')}` : 'none raised') : 'absent');
  void num;
  return { ok: checks.every((c) => c.ok), checks, evidence: ev, identity };
}
