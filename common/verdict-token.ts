// ECDSA P-256/SHA-256 (r||s) verification with a raw public point, and the verdict-token check
// the REE runs before a transaction and the back end runs on a consumer-presented QR payment
// (the pinpad TA runs the same check in AssemblyScript). @noble/curves, not node:crypto: the
// REE runs in a phone's JS engine.
import { decodeCanonical } from './canonical.ts';
import { p256 } from '@noble/curves/nist.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import { equalBytes, toHex, fromHex } from './hex.ts';

const a = trusttap.attest.v1;

/** false for any malformed key or signature, never throws. Only the canonical low-S form is
 * accepted (issue 17 §2): ECDSA also verifies (r, n − s), so without this every signature has a
 * twin that a relay can make without the key, and anything keyed by a signature's bytes (a cache,
 * a journal, a log) could be told the same signed message twice. Every signer in TrustTap gives
 * low-S: the attest TA (ta/lib/ecdsa-low-s.ts), the back end's HSM and the OEM signers (toLowS). */
export function verifyP256(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (pub.length !== 65 || sig.length !== 64) return false;
    return p256.verify(sig, msg, pub, { lowS: true, prehash: true, format: 'compact' });
  } catch {
    return false;
  }
}

/** The order n of P-256 (SEC 2). */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const sOf = (sig: Uint8Array) => BigInt(`0x${toHex(sig.subarray(32, 64)) || '0'}`);

/** floor(n/2), big-endian: s is low when it is at most this. */
const HALF_N = fromHex('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8');

/** true for a 64-byte r||s whose s is at most n/2 (the only form verifyP256 accepts). Compared
 * byte by byte, big-endian (every request's signatures pass here; no BigInt needed). */
export function isLowS(sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  for (let i = 0; i < 32; i++) {
    if (sig[32 + i] !== HALF_N[i]) return sig[32 + i] < HALF_N[i];
  }
  return true;
}

/** The low-S form of a 64-byte P-256 r||s signature (s → n − s when s > n/2); a copy. Signers
 * whose library draws s at random (node:crypto, OpenSSL) pass their signature through this. */
export function toLowS(sig: Uint8Array): Uint8Array {
  const out = Uint8Array.from(sig);
  if (sig.length !== 64) return out;
  if (isLowS(sig)) return out;
  const s = sOf(sig);
  if (s >= N) return out;
  out.set(fromHex((N - s).toString(16).padStart(64, '0')), 32);
  return out;
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
  let t: trusttap.attest.v1.VerdictToken;
  try {
    t = decodeCanonical(a.VerdictToken, signed.token, 'the token');
  } catch (e) {
    throw new TokenError((e as Error).message);
  }
  if (num(t.expiresMs) <= now) throw new TokenError('the token has expired');
  if (!equalBytes(t.deviceKeySha256, sha256(devicePublicKey))) throw new TokenError('the token is for another device');
  return t;
}
