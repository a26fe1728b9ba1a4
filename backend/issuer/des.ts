// DES / TDES block primitives (FIPS 46-3, NIST SP 800-67) over node:crypto, plus the key
// helpers EMV uses: odd parity (keys derived by encryption get their parity bits set) and key
// check values. OpenSSL 3 drops single DES; E_K = EDE with K1 = K2 = K gives the same block.
import { createCipheriv, createDecipheriv } from 'node:crypto';

export class KeyError extends Error {
  readonly code = 'KEY_INVALID';
}

function checkKey(key: Uint8Array, sizes: number[], what: string): void {
  if (!sizes.includes(key.length)) throw new KeyError(`${what} must be ${sizes.join(' or ')} bytes, got ${key.length}`);
}
function checkBlocks(data: Uint8Array): void {
  if (data.length % 8 !== 0) throw new RangeError(`data of ${data.length} bytes is not whole 8-byte blocks`);
}

function run(alg: string, key: Uint8Array, data: Uint8Array, decrypt: boolean, iv: Uint8Array | null): Uint8Array {
  const c = decrypt ? createDecipheriv(alg, key, iv) : createCipheriv(alg, key, iv);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

/** TDES ECB with a double (K1 K2) or triple length key. */
export function tdesEcb(key: Uint8Array, data: Uint8Array, decrypt = false): Uint8Array {
  checkKey(key, [16, 24], 'TDES key'); checkBlocks(data);
  return run(key.length === 16 ? 'des-ede-ecb' : 'des-ede3-ecb', key, data, decrypt, null);
}

export function tdesCbc(key: Uint8Array, data: Uint8Array, iv: Uint8Array = new Uint8Array(8), decrypt = false): Uint8Array {
  checkKey(key, [16, 24], 'TDES key'); checkBlocks(data);
  return run(key.length === 16 ? 'des-ede-cbc' : 'des-ede3-cbc', key, data, decrypt, iv);
}

/** Single DES, as the CBC chain of ISO 9797-1 MAC algorithm 3 needs it. */
export function desEcb(key: Uint8Array, data: Uint8Array, decrypt = false): Uint8Array {
  checkKey(key, [8], 'DES key');
  const kk = new Uint8Array(16); kk.set(key); kk.set(key, 8);
  try { return tdesEcb(kk, data, decrypt); } finally { kk.fill(0); }
}

export function desCbc(key: Uint8Array, data: Uint8Array, iv: Uint8Array = new Uint8Array(8)): Uint8Array {
  checkKey(key, [8], 'DES key');
  const kk = new Uint8Array(16); kk.set(key); kk.set(key, 8);
  try { return tdesCbc(kk, data, iv); } finally { kk.fill(0); }
}

/** Set each byte's least significant bit so the byte has an odd number of ones. */
export function adjustParity(key: Uint8Array): Uint8Array {
  return key.map((b) => {
    let ones = 0;
    for (let v = b >> 1; v; v >>= 1) ones += v & 1;
    return (b & 0xfe) | (ones % 2 === 0 ? 1 : 0);
  });
}

/** Key check value: leading bytes of TDES-ECB(key, 00..00). */
export function kcv(key: Uint8Array, bytes = 3): Uint8Array {
  return tdesEcb(key.length === 8 ? Uint8Array.from([...key, ...key]) : key, new Uint8Array(8)).subarray(0, bytes);
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`xor of ${a.length} and ${b.length} bytes`);
  return a.map((x, i) => x ^ b[i]!);
}
