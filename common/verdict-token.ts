// ECDSA P-256/SHA-256 (r||s) verification with a raw public point, and the verdict-token check
// the REE runs before a transaction and the back end runs on a consumer-presented QR payment
// (the pinpad TA runs the same check in AssemblyScript). @noble/curves, not node:crypto: the
// REE runs in a phone's JS engine.
import { p256 } from '@noble/curves/nist.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import { equalBytes } from './hex.ts';

const a = trusttap.attest.v1;

/** false for any malformed key or signature, never throws. High-S signatures are accepted, as
 * FIPS 186-5 and OpenSSL accept them (the signer is a TEE, not a blockchain wallet). */
export function verifyP256(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (pub.length !== 65 || sig.length !== 64) return false;
    return p256.verify(sig, msg, pub, { lowS: false, prehash: true, format: 'compact' });
  } catch {
    return false;
  }
}

export const sha256 = (b: Uint8Array): Uint8Array => nobleSha256(b);
const num = (x: unknown) => (typeof x === 'number' ? x : (x as { toNumber(): number }).toNumber());

export class TokenError extends Error {
  constructor(message: string) { super(message); this.name = 'TokenError'; }
}

/** Verifies a SignedToken: back-end token key signature over the exact bytes, not expired, for
 * this device key. Returns the token (whatever its verdict; callers require VERDICT_ALLOW). */
export function verifyToken(signed: { token?: Uint8Array | null; signature?: Uint8Array | null }, tokenPublicKey: Uint8Array, devicePublicKey: Uint8Array, now = Date.now()): trusttap.attest.v1.VerdictToken {
  if (!signed.token?.length || !signed.signature) throw new TokenError('no token');
  if (!verifyP256(tokenPublicKey, signed.token, signed.signature)) throw new TokenError('the token signature does not verify');
  const t = a.VerdictToken.decode(signed.token);
  if (num(t.expiresMs) <= now) throw new TokenError('the token has expired');
  if (!equalBytes(t.deviceKeySha256, sha256(devicePublicKey))) throw new TokenError('the token is for another device');
  return t;
}
