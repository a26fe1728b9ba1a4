// OEM certificate chains for device identity keys (proto/attest.proto Certificate): the chain is
// leaf (TA_KEY: the attest TA's identity key, certified by the device's OEM attestation key) then
// DEVICE_ATTESTATION (that key, certified by an OEM root the back end trusts). A key a device
// made up itself has no such chain, so it cannot enrol.
import { decodeCanonical } from '../../common/canonical.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { verifyP256 } from '../crypto/p256.ts';
import { labelled, LABEL } from '../../common/signature-labels.ts';
import { num } from '../util.ts';

const a = trusttap.attest.v1;

export class CertificateError extends Error {
  constructor(message: string) { super(message); this.name = 'CertificateError'; }
}

export interface VerifiedDeviceKey {
  publicKey: Uint8Array;
  oemSerial: string;
  taUuid: string;
  taSha256: string;
  rootName: string;
}

export interface OemRootKey { name: string; publicKey: Uint8Array }

function body(c: { tbs?: Uint8Array | null }, what: string) {
  if (!c.tbs?.length) throw new CertificateError(`${what}: empty certificate`);
  try {
    return decodeCanonical(a.CertificateBody, c.tbs, 'the certificate body');
  } catch (e) {
    throw new CertificateError(`${what}: malformed certificate body (${(e as Error).message})`);
  }
}

/** Verifies the two-certificate chain against the trusted OEM roots and that the leaf was issued
 * for a key of the attest TA (taUuid). Returns the certified identity key. */
export function verifyOemChain(chain: trusttap.attest.v1.ICertificateChain | null | undefined, roots: OemRootKey[], expectedTaUuid: string, now: number): VerifiedDeviceKey {
  const certs = chain?.certificates ?? [];
  if (certs.length !== 2) throw new CertificateError(`the OEM chain must hold 2 certificates (TA key, device attestation key), got ${certs.length}`);
  const [leaf, dev] = certs;
  const devBody = body(dev, 'device attestation certificate');
  if (devBody.kind !== a.CertificateKind.CERTIFICATE_KIND_DEVICE_ATTESTATION) throw new CertificateError('the second certificate is not a DEVICE_ATTESTATION certificate');
  const root = roots.find((r) => verifyP256(r.publicKey, labelled(LABEL.oemCert, dev.tbs!), dev.signature ?? new Uint8Array(0)));
  if (!root) throw new CertificateError('the device attestation certificate is not signed by a trusted OEM root');
  if (now < num(devBody.notBeforeMs) || now > num(devBody.notAfterMs)) throw new CertificateError('the device attestation certificate is not valid now');
  const leafBody = body(leaf, 'TA key certificate');
  if (leafBody.kind !== a.CertificateKind.CERTIFICATE_KIND_TA_KEY) throw new CertificateError('the leaf certificate is not a TA_KEY certificate');
  if (!verifyP256(devBody.subjectPublicKey, labelled(LABEL.oemCert, leaf.tbs!), leaf.signature ?? new Uint8Array(0))) {
    throw new CertificateError('the TA key certificate is not signed by the device attestation key');
  }
  if (leafBody.issuer !== devBody.subject) throw new CertificateError('the TA key certificate names another issuer');
  if (now > num(leafBody.notAfterMs)) throw new CertificateError('the TA key certificate has expired');
  const taUuid = Buffer.from(leafBody.taUuid).toString('hex');
  if (taUuid !== expectedTaUuid.replace(/-/g, '')) throw new CertificateError(`the key was certified for TA ${taUuid}, not the attest TA`);
  if (leafBody.subjectPublicKey.length !== 65) throw new CertificateError('the certified key is not an uncompressed P-256 point');
  return {
    publicKey: new Uint8Array(leafBody.subjectPublicKey),
    oemSerial: devBody.serial,
    taUuid,
    taSha256: Buffer.from(leafBody.taSha256).toString('hex'),
    rootName: root.name,
  };
}
