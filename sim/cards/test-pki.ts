// SIMULATOR ONLY. The test PKI of the card simulators: per scheme a test CA (RID + index F1),
// an issuer key certified by it, and an ICC key the issuer certifies at personalisation.
// The keys are shipped in test-pki.json (generated once, e = 3) so runs are reproducible.
import { readFileSync } from 'node:fs';
import { constants, createPrivateKey, privateEncrypt, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { CaPublicKey } from '../../ree/emv/oda/certificates.ts';
import type { RsaPublicKey } from '../../ree/emv/oda/rsa.ts';

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
