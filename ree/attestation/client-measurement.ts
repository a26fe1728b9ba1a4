// The REE client's measurement (issue 16 §2, proto ClientMeasurement): which client code asked
// for the evidence. The attest TA signs it into the evidence; the acquirer checks it against the
// releases it allows. Two sources: the reference client measures its own shipped bundle
// (`measureClientBundle`: SHA-256 of the bytes of build/client/trusttap-client.js, which the
// signed manifest also records) — self-reported, so an REE the attacker controls can lie — or
// a product's platform measures the app (Android key attestation's attestationApplicationId:
// `platformClientMeasurement`). docs/attestation.md, "The client's measurement".
import { sha256 } from '@noble/hashes/sha2.js';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const at = trusttap.attest.v1;

export interface ClientMeasurement {
  /** The bundle's name (the manifest's client.name) or the app's package name. */
  name: string;
  /** The bundle's version (the manifest's client.version) or the app's version code. */
  version: string;
  /** 32 bytes: SHA-256 of the bundle, or of the DER AttestationApplicationId. */
  sha256: Uint8Array;
  source: 'self-reported' | 'platform';
  /** From the platform: SHA-256 of each certificate that signed the app. */
  signerSha256?: Uint8Array[];
}

export class ClientMeasurementError extends Error {
  constructor(message: string) { super(message); this.name = 'ClientMeasurementError'; }
}

const printable = (s: string) => /^[\x21-\x7e]{1,64}$/.test(s);

function checked(m: ClientMeasurement): ClientMeasurement {
  if (!printable(m.name)) throw new ClientMeasurementError('the client name must be 1..64 printable characters');
  if (!printable(m.version)) throw new ClientMeasurementError('the client version must be 1..64 printable characters');
  if (m.sha256.length !== 32) throw new ClientMeasurementError('the client measurement must be a 32-byte SHA-256');
  return m;
}

/** The reference client: hashes the bundle's bytes as shipped (what the app loaded), under the
 * name and version its release says (the signed manifest's `client` entry). */
export function measureClientBundle(bundle: Uint8Array, release: { name: string; version: string }): ClientMeasurement {
  return checked({ name: release.name, version: release.version, sha256: sha256(bundle), source: 'self-reported' });
}

/** A product's client: what the platform's app attestation says (Android: the DER
 * AttestationApplicationId of the key attestation certificate, and its package name, version
 * code and signature digests as parsed from it). */
export function platformClientMeasurement(a: { attestationApplicationIdDer: Uint8Array; packageName: string; versionCode: number | string; signatureDigests: Uint8Array[] }): ClientMeasurement {
  return checked({
    name: a.packageName, version: String(a.versionCode), sha256: sha256(a.attestationApplicationIdDer), source: 'platform',
    signerSha256: a.signatureDigests.map((d) => Uint8Array.from(d)),
  });
}

/** The proto message the attest TA signs (EvidenceRequest.client). */
export function clientMeasurementMessage(m: ClientMeasurement): trusttap.attest.v1.IClientMeasurement {
  return {
    name: m.name, version: m.version, sha256: m.sha256, signerSha256: m.signerSha256 ?? [],
    source: m.source === 'platform' ? at.ClientMeasurementSource.CLIENT_MEASUREMENT_SOURCE_PLATFORM : at.ClientMeasurementSource.CLIENT_MEASUREMENT_SOURCE_SELF_REPORTED,
  };
}
