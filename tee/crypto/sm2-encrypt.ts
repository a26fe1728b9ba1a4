// SM2 public key encryption (GB/T 32918.4-2016, GM/T 0003.4) with SM3: ciphertext C1 || C3 || C2
// (C1 = [k]G uncompressed, C3 = SM3(x2 || M || y2), C2 = M XOR KDF(x2 || y2, |M|)), its
// GM/T 0009-2012 DER form SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING, ciphertext
// OCTET STRING }, and decryption, which checks C1 on the curve and C3 in constant time.
// Not part of host ABI v1; the runtime and tests use it where SM2 encryption is needed.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SM2P256V1, type Sm2Curve, mod, to32, toBig } from '../../common/sm2.ts';

export interface Sm2Ciphertext {
  /** 04 || x1 || y1 */
  c1: Uint8Array;
  /** SM3(x2 || M || y2), 32 bytes */
  c3: Uint8Array;
  /** M XOR t, as long as M */
  c2: Uint8Array;
}

/** KDF of GB/T 32918.4 §5.4.3 with SM3: SM3(Z || ct) for ct = 1, 2, ... (32-bit big-endian). */
export function sm2Kdf(z: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let ct = 1, o = 0; o < len; ct++, o += 32) {
    const c = Uint8Array.of(ct >>> 24, (ct >>> 16) & 0xff, (ct >>> 8) & 0xff, ct & 0xff);
    const h = createHash('sm3').update(z).update(c).digest();
    out.set(h.subarray(0, Math.min(32, len - o)), o);
  }
  return out;
}

/** Encrypts msg to the public point. `k` is injectable only for known-answer tests. */
export function sm2Encrypt(pub: Uint8Array, msg: Uint8Array, k?: bigint, curve: Sm2Curve = SM2P256V1): Sm2Ciphertext {
  const { n, Point } = curve;
  if (msg.length === 0) throw new Error('SM2 encrypt: empty message');
  let P;
  try { P = Point.fromBytes(pub); } catch { throw new Error('SM2 encrypt: public key is not a point on the curve'); }
  if (P.multiply(curve.h).is0()) throw new Error('SM2 encrypt: [h]P is the point at infinity');
  if (k !== undefined && (k < 1n || k >= n)) throw new Error('SM2 encrypt: k out of range [1, n-1]');
  for (;;) {
    const kk = k ?? mod(toBig(randomBytes(40)), n - 1n) + 1n;
    const c1 = Point.BASE.multiply(kk).toBytes(false);
    const { x, y } = P.multiply(kk).toAffine();
    const x2 = to32(x), y2 = to32(y);
    const t = sm2Kdf(Buffer.concat([x2, y2]), msg.length);
    if (t.every((b) => b === 0)) {
      if (k !== undefined) throw new Error('SM2 encrypt: KDF output is all zero for this k');
      continue;
    }
    const c2 = new Uint8Array(msg.length);
    for (let i = 0; i < msg.length; i++) c2[i] = msg[i]! ^ t[i]!;
    const c3 = createHash('sm3').update(x2).update(msg).update(y2).digest();
    t.fill(0); x2.fill(0); y2.fill(0);
    return { c1, c3: new Uint8Array(c3), c2 };
  }
}

/** Decrypts; throws (one message for every failure after parsing) when C1 or C3 is wrong. */
export function sm2Decrypt(priv: Uint8Array, ct: Sm2Ciphertext, curve: Sm2Curve = SM2P256V1): Uint8Array {
  const { n, Point } = curve;
  if (priv.length !== 32) throw new Error('SM2 decrypt: private key must be 32 bytes');
  const d = toBig(priv);
  if (d < 1n || d >= n - 1n) throw new Error('SM2 decrypt: private key out of range [1, n-2]');
  if (ct.c3.length !== 32 || ct.c2.length === 0) throw new Error('SM2 decrypt: malformed ciphertext');
  let C1;
  try { C1 = Point.fromBytes(ct.c1); } catch { throw new Error('SM2 decrypt: C1 is not a point on the curve'); }
  if (C1.multiply(curve.h).is0()) throw new Error('SM2 decrypt: [h]C1 is the point at infinity');
  const { x, y } = C1.multiply(d).toAffine();
  const x2 = to32(x), y2 = to32(y);
  const t = sm2Kdf(Buffer.concat([x2, y2]), ct.c2.length);
  const zero = t.every((b) => b === 0);
  const m = new Uint8Array(ct.c2.length);
  for (let i = 0; i < m.length; i++) m[i] = ct.c2[i]! ^ t[i]!;
  const u = createHash('sm3').update(x2).update(m).update(y2).digest();
  t.fill(0); x2.fill(0); y2.fill(0);
  if (zero || !timingSafeEqual(u, ct.c3)) {
    m.fill(0);
    throw new Error('SM2 decrypt: decryption failed');
  }
  return m;
}

/** C1 || C3 || C2 (GB/T 32918.4-2016 order). */
export function sm2CiphertextBytes(ct: Sm2Ciphertext): Uint8Array {
  return Buffer.concat([ct.c1, ct.c3, ct.c2]);
}

export function sm2CiphertextFromBytes(b: Uint8Array): Sm2Ciphertext {
  if (b.length < 65 + 32 + 1 || b[0] !== 4) throw new Error('SM2 ciphertext: expected 04 || x1 || y1 || C3 || C2');
  return { c1: b.slice(0, 65), c3: b.slice(65, 97), c2: b.slice(97) };
}

// ---- GM/T 0009-2012 DER form ----

function derLen(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  if (n < 0x100) return Uint8Array.of(0x81, n);
  if (n < 0x10000) return Uint8Array.of(0x82, n >> 8, n & 0xff);
  throw new Error('DER: length too large');
}
function tlv(tag: number, v: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.of(tag), derLen(v.length), v]);
}
function derUint(x: Uint8Array): Uint8Array {
  let i = 0;
  while (i < x.length - 1 && x[i] === 0) i++;
  const v = x.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Uint8Array.of(0), v]) : v);
}

export function sm2CiphertextToDer(ct: Sm2Ciphertext): Uint8Array {
  return tlv(0x30, Buffer.concat([derUint(ct.c1.subarray(1, 33)), derUint(ct.c1.subarray(33, 65)), tlv(0x04, ct.c3), tlv(0x04, ct.c2)]));
}

/** Strict DER: definite minimal lengths, minimal non-negative INTEGERs, nothing trailing. */
export function sm2CiphertextFromDer(der: Uint8Array): Sm2Ciphertext {
  let o = 0;
  const fail = (why: string): never => { throw new Error(`SM2 ciphertext DER: ${why}`); };
  const read = (tag: number): Uint8Array => {
    if (der[o++] !== tag) fail(`expected tag 0x${tag.toString(16)}`);
    let len = der[o++];
    if (len === undefined) fail('truncated');
    if (len! & 0x80) {
      const nb = len! & 0x7f;
      if (nb === 0 || nb > 2) fail('unsupported length form');
      len = 0;
      for (let i = 0; i < nb; i++) len = (len << 8) | (der[o++] ?? fail('truncated'));
      if (len < 0x80 || (nb === 2 && len < 0x100)) fail('non-minimal length');
    }
    if (o + len! > der.length) fail('truncated');
    const v = der.subarray(o, o + len!);
    o += len!;
    return v;
  };
  const uint = (): Uint8Array => {
    const v = read(0x02);
    if (v.length === 0 || v[0]! & 0x80) fail('INTEGER empty or negative');
    if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) fail('INTEGER not minimal');
    const body = v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
    if (body.length > 32) fail('coordinate longer than 32 bytes');
    const out = new Uint8Array(32);
    out.set(body, 32 - body.length);
    return out;
  };
  const seq = read(0x30);
  if (o !== der.length) fail('trailing bytes after SEQUENCE');
  const outer = der;
  der = seq; o = 0;
  const x = uint(), y = uint(), c3 = read(0x04), c2 = read(0x04);
  if (o !== der.length) fail('trailing bytes inside SEQUENCE');
  der = outer;
  return { c1: Buffer.concat([Uint8Array.of(4), x, y]), c3: new Uint8Array(c3), c2: new Uint8Array(c2) };
}
