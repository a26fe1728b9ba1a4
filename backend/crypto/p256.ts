// ECDSA P-256 over SHA-256 with raw keys (FIPS 186-5; SEC 1 uncompressed points, r||s
// signatures as in IEEE P1363), ECDH P-256 (SP 800-56A), on node:crypto. Pure helpers: the back
// end, the REE and the tools may all use them.
import { isLowS, toLowS } from '../../common/verdict-token.ts';
import { createECDH, createHash, createPrivateKey, createPublicKey, hash, sign, verify, type KeyObject } from 'node:crypto';

export interface P256KeyPair { privateKey: Uint8Array; publicKey: Uint8Array }

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

export function generateP256(): P256KeyPair {
  const e = createECDH('prime256v1');
  e.generateKeys();
  return { privateKey: leftPad(e.getPrivateKey(), 32), publicKey: new Uint8Array(e.getPublicKey()) };
}

export function publicFromPrivate(priv: Uint8Array): Uint8Array {
  const e = createECDH('prime256v1');
  e.setPrivateKey(priv);
  return new Uint8Array(e.getPublicKey());
}

const keyCache = new Map<string, KeyObject>();

/** A KeyObject for a 65-byte uncompressed point; throws if it is not a point on P-256. Public
 * keys are cached (bounded), since devices present the same key on every request. */
export function p256PublicKey(pub: Uint8Array): KeyObject {
  if (pub.length !== 65 || pub[0] !== 4) throw new Error('not an uncompressed P-256 point (65 bytes, 0x04 ...)');
  const id = Buffer.from(pub).toString('base64');
  let k = keyCache.get(id);
  if (!k) {
    k = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33)) }, format: 'jwk' });
    if (keyCache.size >= 10_000) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, k);
  }
  return k;
}

export function p256PrivateKey(priv: Uint8Array): KeyObject {
  const pub = publicFromPrivate(priv);
  return createPrivateKey({ key: { kty: 'EC', crv: 'P-256', d: b64u(priv), x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33)) }, format: 'jwk' });
}

/** true when pub is a valid uncompressed P-256 point. */
export function isP256Point(pub: Uint8Array): boolean {
  try { p256PublicKey(pub); return true; } catch { return false; }
}

/** Low-S r||s (node:crypto draws s at random; the verifiers accept the low-S form only). */
export function signP256(priv: Uint8Array | KeyObject, msg: Uint8Array): Uint8Array {
  const key = priv instanceof Uint8Array ? p256PrivateKey(priv) : priv;
  return toLowS(new Uint8Array(sign('sha256', msg, { key, dsaEncoding: 'ieee-p1363' })));
}

/** signP256 on libuv's thread pool (node:crypto's callback form): the OpenSSL work leaves the
 * event loop, which only hands the job over (issue 13 §4). */
export function signP256Async(key: KeyObject, msg: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    sign('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, (e, sig) => (e ? reject(e) : resolve(toLowS(new Uint8Array(sig)))));
  });
}

/** The key to verify with, or null when the signature or the key is malformed (any of which makes
 * the signature false): a high-S signature too (the twin (r, n − s) of a valid one: issue 17 §2,
 * common/verdict-token.ts). */
function verifier(pub: Uint8Array | KeyObject, sig: Uint8Array): KeyObject | null {
  try {
    if (sig.length !== 64 || !isLowS(sig)) return null;
    return pub instanceof Uint8Array ? p256PublicKey(pub) : pub;
  } catch {
    return null;
  }
}

/** false for any malformed key or signature, never throws; false for a high-S signature. */
export function verifyP256(pub: Uint8Array | KeyObject, msg: Uint8Array, sig: Uint8Array): boolean {
  const key = verifier(pub, sig);
  if (!key) return false;
  try {
    return verify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

/** verifyP256 on libuv's thread pool, with the same answers (never rejects). */
export function verifyP256Async(pub: Uint8Array | KeyObject, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  const key = verifier(pub, sig);
  if (!key) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig, (e, ok) => resolve(!e && ok));
    } catch {
      resolve(false);
    }
  });
}

export function ecdhP256(priv: Uint8Array, peer: Uint8Array): Uint8Array {
  const e = createECDH('prime256v1');
  e.setPrivateKey(priv);
  return new Uint8Array(e.computeSecret(peer));
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  // One part (what a request's answer hashes): node:crypto's one-shot hash, no Hash object for the GC.
  if (parts.length === 1) return new Uint8Array(hash('sha256', parts[0], 'buffer'));
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function leftPad(b: Uint8Array, n: number): Uint8Array {
  if (b.length >= n) return new Uint8Array(b);
  const out = new Uint8Array(n);
  out.set(b, n - b.length);
  return out;
}
