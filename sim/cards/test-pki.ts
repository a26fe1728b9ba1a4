// SIMULATOR ONLY. The test PKI of the card simulators: per scheme a test CA (RID + index F1),
// an issuer key certified by it, and an ICC key the issuer certifies at personalisation.
// The keys are shipped in test-pki.json (generated once, e = 3) so runs are reproducible.
import { readFileSync } from 'node:fs';
import { constants, createPrivateKey, privateEncrypt, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { SM2P256V1, sm2PublicFromPrivate } from '../../common/sm2.ts';
import { fromHex } from '../../common/hex.ts';
import type { CaPublicKey, RsaPublicKey } from '../../common/emv/ca-keys.ts';

export type Scheme = 'visa' | 'mastercard' | 'unionpay';

export interface RsaKeyPair { pub: RsaPublicKey; priv: KeyObject }

interface PkiFile { schemes: Record<Scheme, { rid: string; capkIndex: string; ca: JsonWebKey; issuer: JsonWebKey; icc: JsonWebKey }> }

const file = JSON.parse(readFileSync(new URL('./test-pki.json', import.meta.url), 'utf8')) as PkiFile;

function pair(jwk: JsonWebKey): RsaKeyPair {
  return {
    pub: { modulus: new Uint8Array(Buffer.from(jwk.n!, 'base64url')), exponent: new Uint8Array(Buffer.from(jwk.e!, 'base64url')) },
    priv: createPrivateKey({ key: jwk, format: 'jwk' }),
  };
}

export interface SchemePki { ca: RsaKeyPair; capk: CaPublicKey; issuer: RsaKeyPair; icc: RsaKeyPair }

const cache = new Map<Scheme, SchemePki>();

export function testPki(scheme: Scheme): SchemePki {
  let p = cache.get(scheme);
  if (!p) {
    const s = file.schemes[scheme];
    const ca = pair(s.ca);
    p = { ca, capk: { rid: s.rid, index: s.capkIndex, ...ca.pub }, issuer: pair(s.issuer), icc: pair(s.icc) };
    cache.set(scheme, p);
  }
  return p;
}

/** Raw RSA private operation (the card's or CA's signature primitive, EMV Book 2 §5.1). */
export function rsaSign(key: KeyObject, block: Uint8Array): Uint8Array {
  return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block));
}

/** Every CA public key of the test PKI, as a terminal would load them. */
export function testCapks(): CaPublicKey[] {
  return (['visa', 'mastercard', 'unionpay'] as const).map((s) => testPki(s).capk);
}

/** SM2 key pair: private scalar (32 bytes) and public point x || y (64 bytes). */
export interface Sm2KeyPair { priv: Uint8Array; pub: Uint8Array }
export interface Sm2Pki { capk: CaPublicKey; ca: Sm2KeyPair; issuer: Sm2KeyPair; icc: Sm2KeyPair }

/** Test CA index of the UnionPay SM2 test CA (the RSA one is F1). */
export const SM2_TEST_CAPK_INDEX = 'F2';

/** A TEST ONLY SM2 key derived deterministically from a label: d = SM3(label) mod (n - 2) + 1. */
function sm2TestKey(label: string): Sm2KeyPair {
  const h = BigInt('0x' + createHash('sm3').update(`trusttap test sm2 ${label}`).digest('hex'));
  const d = h % (SM2P256V1.n - 2n) + 1n;
  const priv = fromHex(d.toString(16).padStart(64, '0'));
  return { priv, pub: sm2PublicFromPrivate(priv).subarray(1) };
}

let sm2Cache: Sm2Pki | undefined;

/** The UnionPay SM2 test PKI (PBOC 3.0 national algorithms): CA (A000000333 / F2, algorithm
 *  indicator 04), issuer and ICC keys, all derived from fixed labels so runs are reproducible. */
export function testSm2Pki(): Sm2Pki {
  if (!sm2Cache) {
    const ca = sm2TestKey('ca unionpay');
    sm2Cache = {
      ca, issuer: sm2TestKey('issuer unionpay'), icc: sm2TestKey('icc unionpay'),
      capk: { rid: 'A000000333', index: SM2_TEST_CAPK_INDEX, modulus: ca.pub, exponent: new Uint8Array(0), algorithm: 0x04 },
    };
  }
  return sm2Cache;
}
