// Independent reference implementations for test/paylib, written from the standards in plain
// TypeScript on node:crypto (DES/TDES) and @noble/ciphers (AES, AES-CMAC). They share no code
// with ta/lib; the property tests compare the two on random inputs.
import * as nc from 'node:crypto';
import { cmac as nobleCmac, ecb as nobleEcb, cbc as nobleCbc } from '@noble/ciphers/aes.js';

/** Deterministic test randomness (xorshift128+ on a seed): reproducible, injectable. */
export function rng(seed: number) {
  let s0 = BigInt(seed) | 1n, s1 = BigInt(seed * 7919 + 17) | 3n;
  const M = (1n << 64n) - 1n;
  const next = (): bigint => {
    let x = s0; const y = s1; s0 = y;
    x = (x ^ (x << 23n)) & M; s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (s1 + y) & M;
  };
  return {
    int: (n: number): number => Number(next() % BigInt(n)),
    bytes: (n: number): Uint8Array => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = Number(next() & 255n); return b; },
    pick: <T>(a: readonly T[]): T => a[Number(next() % BigInt(a.length))]!,
  };
}

const xor = (a: Uint8Array, b: Uint8Array): Uint8Array => a.map((v, i) => v ^ b[i]!);
const cat = (...a: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(a));
const tdes24 = (k: Uint8Array): Uint8Array => k.length === 24 ? k : k.length === 16 ? cat(k, k.subarray(0, 8)) : cat(k, k, k);

export function tdesEcb(key: Uint8Array, data: Uint8Array, decrypt = false): Uint8Array {
  const c = decrypt ? nc.createDecipheriv('des-ede3-ecb', tdes24(key), null) : nc.createCipheriv('des-ede3-ecb', tdes24(key), null);
  c.setAutoPadding(false);
  return Uint8Array.from(Buffer.concat([c.update(data), c.final()]));
}
export function tdesCbc(key: Uint8Array, data: Uint8Array, iv: Uint8Array): Uint8Array {
  const c = nc.createCipheriv('des-ede3-cbc', tdes24(key), iv);
  c.setAutoPadding(false);
  return Uint8Array.from(Buffer.concat([c.update(data), c.final()]));
}
export const aesEcb = (key: Uint8Array, data: Uint8Array): Uint8Array => nobleEcb(key, { disablePadding: true }).encrypt(data);
export const aesCbc = (key: Uint8Array, data: Uint8Array, iv: Uint8Array): Uint8Array => nobleCbc(key, iv, { disablePadding: true }).encrypt(data);
export const aesCmac = (key: Uint8Array, msg: Uint8Array): Uint8Array => nobleCmac(msg, key);

/** ISO 9797-1 padding methods 1-3. */
export function isoPad(data: Uint8Array, method: number, bl: number): Uint8Array {
  const zero = (d: Uint8Array) => { const n = d.length === 0 ? bl : Math.ceil(d.length / bl) * bl; const o = new Uint8Array(n); o.set(d); return o; };
  if (method === 1) return zero(data);
  if (method === 2) { const o = new Uint8Array((Math.floor(data.length / bl) + 1) * bl); o.set(data); o[data.length] = 0x80; return o; }
  const l = new Uint8Array(bl);
  let bits = BigInt(data.length * 8);
  for (let i = bl - 1; i >= 0 && bits > 0n; i--) { l[i] = Number(bits & 255n); bits >>= 8n; }
  return cat(l, zero(data));
}

/** MAC algorithm 1 with DES/TDES. */
export const cbcMacTdes = (key: Uint8Array, data: Uint8Array, method: number): Uint8Array => {
  const c = tdesCbc(key, isoPad(data, method, 8), new Uint8Array(8));
  return c.subarray(c.length - 8);
};
/** MAC algorithm 3: CBC under key1, then D(key2), E(key1) on the last block. */
export const retailMac = (k1: Uint8Array, k2: Uint8Array, data: Uint8Array, method: number): Uint8Array =>
  tdesEcb(k1, tdesEcb(k2, cbcMacTdes(k1, data, method), true));

/** TDES-CMAC (SP 800-38B), written out. */
export function tdesCmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const dbl = (b: Uint8Array) => { const o = new Uint8Array(8); for (let i = 0; i < 8; i++) o[i] = ((b[i]! << 1) | (i < 7 ? b[i + 1]! >> 7 : 0)) & 255; if (b[0]! & 0x80) o[7]! ^= 0x1b; return o; };
  const L = tdesEcb(key, new Uint8Array(8));
  const k1 = dbl(L), k2 = dbl(k1);
  const n = Math.max(1, Math.ceil(msg.length / 8));
  const complete = msg.length > 0 && msg.length % 8 === 0;
  let x: Uint8Array = new Uint8Array(8);
  for (let i = 0; i < n; i++) {
    let blk: Uint8Array = msg.slice(i * 8, i * 8 + 8);
    if (i === n - 1) {
      if (!complete) { const p = new Uint8Array(8); p.set(blk); p[blk.length] = 0x80; blk = p; }
      blk = xor(blk, complete ? k1 : k2);
    }
    x = tdesEcb(key, xor(x, blk));
  }
  return x;
}

// ---- TDES DUKPT, X9.24-1:2009 ----
const C0 = Uint8Array.from(Buffer.from('C0C0C0C000000000C0C0C0C000000000', 'hex'));
export function dukptTdesIpek(bdk: Uint8Array, ksn: Uint8Array): Uint8Array {
  const m = ksn.slice(0, 8); m[7]! &= 0xe0;
  return cat(tdesEcb(bdk, m), tdesEcb(xor(bdk, C0), m));
}
function nrkgp(key: Uint8Array, reg: Uint8Array): Uint8Array {
  const half = (k: Uint8Array) => xor(tdesEcb(k.subarray(0, 8), xor(reg, k.subarray(8))), k.subarray(8));
  return cat(half(xor(key, C0)), half(key));
}
export function dukptTdesTxnKey(ipek: Uint8Array, ksn: Uint8Array): Uint8Array {
  const counter = ((ksn[7]! & 0x1f) << 16) | (ksn[8]! << 8) | ksn[9]!;
  const reg = ksn.slice(2, 10); reg[5]! &= 0xe0; reg[6] = 0; reg[7] = 0;
  let key = ipek;
  for (let b = 1 << 20; b > 0; b >>= 1) {
    if (!(counter & b)) continue;
    reg[5]! |= b >> 16; reg[6]! |= (b >> 8) & 255; reg[7]! |= b & 255;
    key = nrkgp(key, reg);
  }
  return key;
}
export const TDES_VARIANTS = {
  pin: '00000000000000FF00000000000000FF', macRequest: '000000000000FF00000000000000FF00', macResponse: '00000000FF00000000000000FF000000',
  dataRequest: '0000000000FF00000000000000FF0000', dataResponse: '000000FF00000000000000FF00000000',
} as const;
export function dukptTdesWorkingKey(txn: Uint8Array, v: keyof typeof TDES_VARIANTS): Uint8Array {
  const k = xor(txn, Uint8Array.from(Buffer.from(TDES_VARIANTS[v], 'hex')));
  return v === 'dataRequest' || v === 'dataResponse' ? tdesEcb(k, k) : k;
}

// ---- AES DUKPT, X9.24-3:2017 ----
const KEY_LEN: Record<number, number> = { 0: 16, 1: 24, 2: 16, 3: 24, 4: 32 };
function aesDerive(key: Uint8Array, usage: number, keyType: number, data8: Uint8Array): Uint8Array {
  const len = KEY_LEN[keyType]!;
  const out: Uint8Array[] = [];
  for (let i = 1; i <= Math.ceil(len / 16); i++) {
    const dd = new Uint8Array(16);
    dd.set([1, i, usage >> 8, usage & 255, 0, keyType, (len * 8) >> 8, (len * 8) & 255]);
    dd.set(data8, 8);
    out.push(aesEcb(key, dd));
  }
  return cat(...out).subarray(0, len);
}
const aesTypeOf = (k: Uint8Array) => ({ 16: 2, 24: 3, 32: 4 } as Record<number, number>)[k.length]!;
export const dukptAesInitialKey = (bdk: Uint8Array, ikid: Uint8Array) => aesDerive(bdk, 0x8001, aesTypeOf(bdk), ikid);
function counterData(ksn: Uint8Array, tc: number): Uint8Array {
  const d = new Uint8Array(8); d.set(ksn.subarray(4, 8)); new DataView(d.buffer).setUint32(4, tc >>> 0); return d;
}
export function dukptAesDerivationKey(ik: Uint8Array, ksn: Uint8Array): Uint8Array {
  const tc = new DataView(ksn.buffer, ksn.byteOffset).getUint32(8);
  let key = ik, working = 0;
  for (let bit = 31; bit >= 0; bit--) {
    const m = 2 ** bit;
    if (Math.floor(tc / m) % 2 === 0) continue;
    working += m;
    key = aesDerive(key, 0x8000, aesTypeOf(ik), counterData(ksn, working));
  }
  return key;
}
export function dukptAesWorkingKey(dk: Uint8Array, ksn: Uint8Array, usage: number, keyType: number): Uint8Array {
  return aesDerive(dk, usage, keyType, counterData(ksn, new DataView(ksn.buffer, ksn.byteOffset).getUint32(8)));
}
/** ISO 9564-1 format 4 encipherment: E(K, E(K, PIN field) XOR PAN field). */
export const format4Encipher = (k: Uint8Array, pinField: Uint8Array, panField: Uint8Array) => aesEcb(k, xor(aesEcb(k, pinField), panField));
