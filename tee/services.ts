// Host services for one TA: its sealed storage, HUK derivation, crypto operation table, clock
// and random source, wired from the runtime's configuration. Randomness and time are
// injectable so tests and vectors are deterministic.
import { toLowS } from '../common/verdict-token.ts';
import { randomFillSync, createHash, createPublicKey } from 'node:crypto';
import type { AttestationServices, HostServices, TaIdentity, TaSessions } from './abi/context.ts';
import { Alg } from './abi/algorithms.ts';
import { Status } from '../proto/status.ts';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import type Long from 'long';
import { CryptoOps, CryptoError } from './crypto/ops.ts';
import { SealedStorage } from './storage/sealed.ts';
import { RpmbClient, SimulatedRpmb } from './storage/rpmb.ts';
import { join } from 'node:path';
import type { Huk } from './huk.ts';

export interface ServiceOptions {
  storageDir: string;
  /** The simulated RPMB device's image (the runtime: dataDir/device/rpmb.img); default
   * storageDir/rpmb.img, beside — never inside — the TAs' object trees. */
  rpmbPath?: string;
  huk: Huk;
  random?: (out: Uint8Array) => void;
  clockMs?: () => number;
  reeTimeMs?: () => number;
  log?: (ta: string, line: string) => void;
  /** Device attestation, shared by every TA of a runtime (in-process isolation); a function
   * when the runtime measures on first use, so a TA that never attests does not wait for it. */
  attestation?: DeviceAttestation | (() => DeviceAttestation);
}

/** The device's OEM attestation key as provisioned in the factory (sim/oem/ writes it to
 * dataDir/device/oem-attestation.json): private scalar and its certificate from the OEM root. */
export interface OemDeviceKey {
  privateKey: Uint8Array;
  /** Encoded trusttap.attest.v1.Certificate (kind DEVICE_ATTESTATION). */
  certificate: Uint8Array;
  serial: string;
}

/** What the runtime measured at start, plus the OEM key: the source of AttestationServices. */
export interface DeviceAttestation {
  measurements: Uint8Array;
  /** Hex SHA-256 of each loaded TA image, by lower-case UUID. */
  taSha256: Map<string, Uint8Array>;
  oem: OemDeviceKey | null;
}

/** Label the OEM keys sign under (proto/attest.proto). */
export const OEM_CERT_LABEL = 'trusttap/oem-cert/v1';

function uuidText(u: Uint8Array): string {
  const h = Buffer.from(u).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The TEE core's client of the simulated RPMB device, keyed from the HUK. */
export function rpmbFor(opts: Pick<ServiceOptions, 'storageDir' | 'rpmbPath' | 'huk'>): RpmbClient {
  return new RpmbClient(new SimulatedRpmb(opts.rpmbPath ?? join(opts.storageDir, 'rpmb.img')), opts.huk.deriveCore('rpmb-authentication-key'));
}

function attestationFor(ta: TaIdentity, source: DeviceAttestation | (() => DeviceAttestation), crypto: CryptoOps, now: () => number, rpmb: () => RpmbClient): AttestationServices {
  const a = trusttap.attest.v1;
  const device = typeof source === 'function' ? source : () => source;
  return {
    // The measurements of the start, with the RPMB write counter read now (fresh nonce, MAC).
    measurements: () => {
      const m = a.Measurements.decode(device().measurements);
      m.rpmbWriteCounter = rpmb().writeCounter();
      return a.Measurements.encode(m).finish();
    },
    oemCertify(publicKey) {
      if (publicKey.length !== 65 || publicKey[0] !== 4) throw new CryptoError(Status.ERROR_BAD_PARAMETERS, 'oem_certify: not an uncompressed P-256 point');
      try {
        createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(publicKey.subarray(1, 33)).toString('base64url'), y: Buffer.from(publicKey.subarray(33)).toString('base64url') }, format: 'jwk' });
      } catch {
        throw new CryptoError(Status.ERROR_BAD_PARAMETERS, 'oem_certify: the point is not on P-256');
      }
      const dev = device();
      if (!dev.oem) throw new CryptoError(Status.ERROR_ITEM_NOT_FOUND, 'oem_certify: the device has no OEM attestation key (not provisioned)');
      const issuerCert = a.Certificate.decode(dev.oem.certificate);
      const issuer = a.CertificateBody.decode(issuerCert.tbs);
      const t = now();
      const tbs = a.CertificateBody.encode({
        version: 1,
        kind: a.CertificateKind.CERTIFICATE_KIND_TA_KEY,
        serial: createHash('sha256').update(publicKey).digest('hex').slice(0, 32),
        issuer: issuer.subject,
        subject: `ta:${uuidText(ta.uuid)}`,
        subjectPublicKey: publicKey,
        notBeforeMs: t as unknown as Long,
        notAfterMs: issuer.notAfterMs,
        taUuid: ta.uuid,
        taSha256: dev.taSha256.get(uuidText(ta.uuid)) ?? new Uint8Array(0),
      }).finish();
      const msg = Buffer.concat([Buffer.from(OEM_CERT_LABEL), Buffer.of(0), tbs]);
      const signature = toLowS(crypto.eccSign(Alg.ECDSA_P256, dev.oem.privateKey, msg)); // the form verifiers accept
      return a.CertificateChain.encode({ certificates: [{ tbs, signature }, issuerCert] }).finish();
    },
  };
}

const noSessions: TaSessions = {
  open: () => 0xffff000a | 0, // ERROR_NOT_SUPPORTED: no runtime to route to
  invoke: () => ({ status: 0xffff000a, payload: new Uint8Array(0) }),
  close: () => {},
  closeAll: () => {},
};

const start = performance.now();

export function createServices(ta: TaIdentity, opts: ServiceOptions, sessions: TaSessions = noSessions): HostServices {
  const crypto = new CryptoOps();
  // Sealed storage and the RPMB client are made when the TA first uses them: a TA start that
  // touches neither (a PING) does not pay their key derivations and directories.
  let rpmbClient: RpmbClient | undefined;
  let storage: SealedStorage | undefined;
  const rpmb = () => (rpmbClient ??= rpmbFor(opts));
  return {
    ta,
    get storage() { return (storage ??= new SealedStorage(opts.storageDir, ta.uuid, opts.huk, rpmb())); },
    crypto,
    attestation: opts.attestation ? attestationFor(ta, opts.attestation, crypto, opts.reeTimeMs ?? (() => Date.now()), rpmb) : undefined,
    hukDerive: (label, len) => opts.huk.derive(ta.uuid, label, len),
    random: opts.random ?? ((out) => randomFillSync(out)),
    clockMs: opts.clockMs ?? (() => performance.now() - start),
    reeTimeMs: opts.reeTimeMs ?? (() => Date.now()),
    sessions,
    log: (line) => opts.log?.(ta.name, line),
    abort: (message) => opts.log?.(ta.name, `abort: ${message}`),
  };
}
