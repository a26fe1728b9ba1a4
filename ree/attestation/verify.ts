// ECDSA P-256/SHA-256 (r||s) verification with a raw public point, and the verdict-token check
// the REE runs before a transaction (the pinpad TA runs the same check in AssemblyScript).
import { createHash, createPublicKey, verify } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const a = trusttap.attest.v1;

export function verifyP256(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (pub.length !== 65 || sig.length !== 64) return false;
    const b = (x: Uint8Array) => Buffer.from(x).toString('base64url');
    const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b(pub.subarray(1, 33)), y: b(pub.subarray(33)) }, format: 'jwk' });
    return verify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

export const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
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
  if (Buffer.compare(Buffer.from(t.deviceKeySha256), Buffer.from(sha256(devicePublicKey))) !== 0) throw new TokenError('the token is for another device');
  return t;
}
