// Shared (common/: no I/O, no Node built-in): imported by tee/crypto (the reference TEE's SM2
// operations), by ree/emv/oda (SM2 offline data authentication of PBOC cards) and by sim/cards
// (the SM2 test CA), which the walls keep from importing each other.
// SM2 digital signature (GB/T 32918.2-2016, GM/T 0003.2) over SM3 with the default user ID
// "1234567812345678" (GM/T 0009-2012 §10). OpenSSL via node:crypto signs an SM2-curve key with
// plain ECDSA, so the SM2 scheme itself is written here on @noble/curves' curve arithmetic,
// hashing with common/sm3.ts and drawing k from crypto.getRandomValues.
// The curve is a parameter (default: the recommended curve sm2p256v1 of GB/T 32918.5) so the
// standard's worked examples on the 256-bit test curve of GM/T 0003.5 Annex A run as well.
import { weierstrass, type WeierstrassPointCons } from '@noble/curves/abstract/weierstrass.js';
import { concat, fromHex, toHex } from './hex.ts';
import { sm3 } from './sm3.ts';

export interface Sm2CurveParams { p: bigint; a: bigint; b: bigint; n: bigint; Gx: bigint; Gy: bigint; h?: bigint }
export interface Sm2Curve extends Required<Sm2CurveParams> { Point: WeierstrassPointCons<bigint> }

/** A prime curve of at most 256 bits (coordinates and scalars are 32 bytes). */
export function sm2Curve(c: Sm2CurveParams): Sm2Curve {
  if (c.p >= 1n << 256n || c.n >= 1n << 256n) throw new Error('SM2 curve: p and n must fit in 256 bits');
  const h = c.h ?? 1n;
  return { ...c, h, Point: weierstrass({ p: c.p, n: c.n, h, a: c.a, b: c.b, Gx: c.Gx, Gy: c.Gy }) };
}

/** sm2p256v1, GB/T 32918.5-2017. */
export const SM2P256V1 = sm2Curve({
  p: 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn,
  a: 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn,
  b: 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n,
  n: 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n,
  Gx: 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n,
  Gy: 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n,
});

export const SM2Point = SM2P256V1.Point;
export const SM2_DEFAULT_ID = new TextEncoder().encode('1234567812345678');

export const toBig = (bytes: Uint8Array) => BigInt('0x' + (toHex(bytes) || '0'));
export const to32 = (x: bigint) => fromHex(x.toString(16).padStart(64, '0'));
export const mod = (x: bigint, m: bigint) => ((x % m) + m) % m;

export function modInv(x: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(x, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

/** ZA = SM3(ENTLA || ID || a || b || xG || yG || xA || yA) (GB/T 32918.2 §5.5). */
export function sm2Za(pub: Uint8Array, id: Uint8Array = SM2_DEFAULT_ID, curve: Sm2Curve = SM2P256V1): Uint8Array {
  // ENTLA is the ID's length in bits on two bytes.
  if (id.length > 0x1fff) throw new Error('SM2: user ID longer than 8191 bytes');
  if (pub.length !== 65 || pub[0] !== 4) throw new Error('SM2: ZA needs an uncompressed public point');
  const entla = id.length * 8;
  return sm3(Uint8Array.of(entla >> 8, entla & 0xff), id,
    to32(curve.a), to32(curve.b), to32(curve.Gx), to32(curve.Gy),
    pub.subarray(1, 33), pub.subarray(33, 65));
}

function scalar(priv: Uint8Array, curve: Sm2Curve): bigint {
  if (priv.length !== 32) throw new Error('SM2 private key must be 32 bytes');
  const d = toBig(priv);
  if (d < 1n || d >= curve.n - 1n) throw new Error('SM2 private key out of range [1, n-2]');
  return d;
}

export function sm2PublicFromPrivate(priv: Uint8Array, curve: Sm2Curve = SM2P256V1): Uint8Array {
  return curve.Point.BASE.multiply(scalar(priv, curve)).toBytes(false);
}

/** Signature r||s (64 bytes). `k` is injectable only for known-answer tests. */
export function sm2Sign(priv: Uint8Array, msg: Uint8Array, id: Uint8Array = SM2_DEFAULT_ID, k?: bigint, curve: Sm2Curve = SM2P256V1): Uint8Array {
  const { n, Point } = curve;
  const d = scalar(priv, curve);
  if (k !== undefined && (k < 1n || k >= n)) throw new Error('SM2: k out of range [1, n-1]');
  const pub = Point.BASE.multiply(d).toBytes(false);
  const e = toBig(sm3(sm2Za(pub, id, curve), msg));
  for (;;) {
    const kk = k ?? mod(toBig(crypto.getRandomValues(new Uint8Array(40))), n - 1n) + 1n;
    const x1 = Point.BASE.multiply(kk).toAffine().x;
    const r = mod(e + x1, n);
    if (r === 0n || r + kk === n) { if (k !== undefined) throw new Error('SM2: unusable k'); continue; }
    const s = mod(modInv(1n + d, n) * (kk - r * d), n);
    if (s === 0n) { if (k !== undefined) throw new Error('SM2: unusable k'); continue; }
    return concat(to32(r), to32(s));
  }
}

export function sm2Verify(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array, id: Uint8Array = SM2_DEFAULT_ID, curve: Sm2Curve = SM2P256V1): boolean {
  const { n, Point } = curve;
  if (sig.length !== 64) return false;
  const r = toBig(sig.subarray(0, 32)), s = toBig(sig.subarray(32));
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  let P;
  try { P = Point.fromBytes(pub); } catch { return false; }
  const e = toBig(sm3(sm2Za(P.toBytes(false), id, curve), msg));
  const t = mod(r + s, n);
  if (t === 0n) return false;
  // Verification works on public values only (signature, key, message): the variable-time
  // multiplication is safe here and several times faster, which counts for a reader checking
  // three SM2 signatures per tap with the card gone.
  const R = Point.BASE.multiplyUnsafe(s).add(P.multiplyUnsafe(t));
  // noble maps the point at infinity to x = 0 in toAffine(); it is never a valid result.
  if (R.is0()) return false;
  return mod(e + R.toAffine().x, n) === r;
}
