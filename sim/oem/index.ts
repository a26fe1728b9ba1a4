// The simulated phone maker (OEM): a test root CA and the factory step that gives each device
// its own OEM attestation key, certified by that root. On a real phone this key sits in the
// secure hardware (as Android's Keymaster attestation key does) and the runtime signs with it;
// here provisioning writes it to dataDir/device/oem-attestation.json, the simulated fuses next
// to the simulated HUK, which only the TEE runtime reads.
//
// Trust chain (docs/attestation.md):
//   OEM root (test-root.json; the back end holds its public key)
//     └─ DEVICE_ATTESTATION certificate: per-device OEM attestation key (provisionDevice)
//          └─ TA_KEY certificate: the attest TA's device identity key (host function
//             oem_certify; the runtime writes the caller's UUID and image hash into it)
// Certificates are trusttap.attest.v1.Certificate: ECDSA P-256/SHA-256 r||s over
// "trusttap/oem-cert/v1" 0x00 || tbs.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { p256 } from '@noble/curves/nist.js';
import { labelled, LABEL } from '../../common/signature-labels.ts';

const a = trusttap.attest.v1;

export interface OemRoot { name: string; privateKey: Uint8Array; publicKey: Uint8Array }

const rootJson = JSON.parse(readFileSync(new URL('./test-root.json', import.meta.url), 'utf8')) as { name: string; private_key: string; public_key: string };

/** A fresh P-256 key pair (uncompressed public point). */
function generateP256(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const privateKey = p256.utils.randomSecretKey();
  return { privateKey, publicKey: p256.getPublicKey(privateKey, false) };
}

/** The test OEM root CA. TEST ONLY: its private key is committed. */
export const TEST_OEM_ROOT: OemRoot = {
  name: rootJson.name,
  privateKey: new Uint8Array(Buffer.from(rootJson.private_key, 'hex')),
  publicKey: new Uint8Array(Buffer.from(rootJson.public_key, 'hex')),
};

/** A root nobody trusts: for tests of self-made device keys. */
export function rogueOemRoot(): OemRoot {
  const k = generateP256();
  return { name: 'Rogue OEM', privateKey: k.privateKey, publicKey: k.publicKey };
}

/** Where the runtime looks for the device's OEM key (tee/runtime.ts OEM_KEY_FILE). */
export const oemKeyFile = (dataDir: string) => join(dataDir, 'device', 'oem-attestation.json');

export interface ProvisionOptions {
  root?: OemRoot;
  serial?: string;
  notAfterMs?: number;
  /** Replace an existing key (a new device in the same directory). */
  force?: boolean;
}

/** Issues a certificate body signed by `issuerKey` (the OEM certificate format). */
export function issueCertificate(issuerKey: Uint8Array, body: trusttap.attest.v1.CertificateBody.$Properties): Uint8Array {
  const tbs = a.CertificateBody.encode(body).finish();
  return a.Certificate.encode({ tbs, signature: p256.sign(labelled(LABEL.oemCert, tbs), issuerKey, { prehash: true, format: 'compact' }) }).finish();
}

/** The factory step: a per-device OEM attestation key certified by the root. Idempotent unless
 * force is set. Returns the device serial. */
export function provisionDevice(dataDir: string, opts: ProvisionOptions = {}): string {
  const file = oemKeyFile(dataDir);
  if (existsSync(file) && !opts.force) return (JSON.parse(readFileSync(file, 'utf8')) as { serial: string }).serial;
  const root = opts.root ?? TEST_OEM_ROOT;
  const serial = opts.serial ?? `TT-${randomBytes(6).toString('hex').toUpperCase()}`;
  const key = generateP256();
  const now = Date.now();
  const certificate = issueCertificate(root.privateKey, {
    version: 1,
    kind: a.CertificateKind.CERTIFICATE_KIND_DEVICE_ATTESTATION,
    serial,
    issuer: root.name,
    subject: `device:${serial}`,
    subjectPublicKey: key.publicKey,
    notBeforeMs: (now - 60_000) as any,
    notAfterMs: (opts.notAfterMs ?? now + 20 * 365 * 86_400_000) as any,
  });
  mkdirSync(join(dataDir, 'device'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ serial, private_key: Buffer.from(key.privateKey).toString('hex'), certificate: Buffer.from(certificate).toString('base64') }, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
  key.privateKey.fill(0);
  return serial;
}

/** The options a simulated, provisioned, verified-boot device gives the reference runtime. */
export function simulatedDevice(dataDir: string, opts: ProvisionOptions & { bootState?: 'verified' | 'self-signed' | 'unlocked' | 'failed' } = {}) {
  const serial = provisionDevice(dataDir, opts);
  return { serial, bootState: opts.bootState ?? ('verified' as const) };
}

