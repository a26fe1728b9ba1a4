// GCM (NIST SP 800-38D) over any 128-bit block cipher given as an ECB encrypt function, for
// SM4-GCM: node:crypto (OpenSSL 3.0 here) has sm4-ecb but no sm4-gcm. The block cipher is the
// TEE host's (CryptoOps SM4-ECB); GHASH, GCTR and J0 are written out from the standard.
// Checked against node's aes-*-gcm on every AES Wycheproof case (test/crypto/wycheproof.test.ts).
import { timingSafeEqual } from 'node:crypto';

export type BlockEncrypt = (block: Uint8Array) => Uint8Array;

const R = 0xe1n << 120n;
const big = (b: Uint8Array) => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));
const bytes16 = (x: bigint) => Buffer.from(x.toString(16).padStart(32, '0'), 'hex');

/** X • Y in GF(2^128) with GCM's bit order (Algorithm 1). */
function gmul(x: bigint, y: bigint): bigint {
  let z = 0n, v = y;
  for (let i = 127; i >= 0; i--) {
    if ((x >> BigInt(i)) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}

/** GHASH_H over data zero-padded to whole blocks. */
function ghash(h: bigint, y: bigint, data: Uint8Array): bigint {
  for (let o = 0; o < data.length; o += 16) {
    const blk = new Uint8Array(16);
    blk.set(data.subarray(o, o + 16));
    y = gmul(y ^ big(blk), h);
  }
  return y;
}

function lenBlock(a: number, b: number): Uint8Array {
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(a) * 8n);
  dv.setBigUint64(8, BigInt(b) * 8n);
  return out;
}

function inc32(cb: Uint8Array): Uint8Array {
  const out = new Uint8Array(cb); // a copy with its own buffer (Buffer.slice would be a view)
  const dv = new DataView(out.buffer);
  dv.setUint32(12, (dv.getUint32(12) + 1) >>> 0);
  return out;
}

function gctr(enc: BlockEncrypt, icb: Uint8Array, x: Uint8Array): Uint8Array {
  const out = new Uint8Array(x.length);
  let cb = icb;
  for (let o = 0; o < x.length; o += 16) {
    const ks = enc(cb);
    for (let i = 0; i < 16 && o + i < x.length; i++) out[o + i] = x[o + i]! ^ ks[i]!;
    cb = inc32(cb);
  }
  return out;
}

function setup(enc: BlockEncrypt, iv: Uint8Array): { h: bigint; j0: Uint8Array } {
  if (iv.length === 0) throw new Error('GCM: IV must not be empty (SP 800-38D §5.2.1.1)');
  const h = big(enc(new Uint8Array(16)));
  let j0: Uint8Array;
  if (iv.length === 12) {
    j0 = new Uint8Array(16);
    j0.set(iv);
    j0[15] = 1;
  } else {
    const s = ghash(h, ghash(h, 0n, iv), lenBlock(0, iv.length));
    j0 = bytes16(s);
  }
  return { h, j0 };
}

function tagOf(enc: BlockEncrypt, h: bigint, j0: Uint8Array, aad: Uint8Array, c: Uint8Array, tagLen: number): Uint8Array {
  const s = ghash(h, ghash(h, ghash(h, 0n, aad), c), lenBlock(aad.length, c.length));
  return gctr(enc, j0, bytes16(s)).subarray(0, tagLen);
}

export function gcmEncrypt(enc: BlockEncrypt, iv: Uint8Array, aad: Uint8Array, pt: Uint8Array, tagLen = 16): { ct: Uint8Array; tag: Uint8Array } {
  const { h, j0 } = setup(enc, iv);
  const ct = gctr(enc, inc32(j0), pt);
  return { ct, tag: tagOf(enc, h, j0, aad, ct, tagLen) };
}

/** The plaintext, or null when the tag does not verify. */
export function gcmDecrypt(enc: BlockEncrypt, iv: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array): Uint8Array | null {
  if (tag.length < 12 || tag.length > 16) throw new Error('GCM: tag length must be 12..16 bytes here');
  const { h, j0 } = setup(enc, iv);
  const t = tagOf(enc, h, j0, aad, ct, tag.length);
  if (!timingSafeEqual(t, tag)) return null;
  return gctr(enc, inc32(j0), ct);
}
