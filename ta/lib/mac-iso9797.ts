// ISO/IEC 9797-1:2011 MAC algorithm 1 (CBC-MAC) and MAC algorithm 3 (ANSI X9.19 "retail MAC"),
// with padding methods 1, 2, 3 (padding.ts). Single DES is TDES with K1 = K2 (keying option 3).
//   Algorithm 1: H = CBC(K, IV = 0, padded data); MAC = last block.
//   Algorithm 3: H = CBC(K, padded data); MAC = E(K, D(K', H)). With single-DES K, K' (X9.19) the
//   last step plus the last CBC block is one TDES-EDE(K|K') block, so it costs two host ops.
// The whole MAC block is returned; callers truncate (X9.19 and TR-31 use the leftmost 4 bytes).
import { AES_CBC, SM4_CBC, TDES_CBC, TDES_ECB, encrypt, decrypt } from "./cipher";
import { pad } from "./padding";
import { badParam, fail } from "./error";
import { ERROR_GENERIC } from "./status";
import { wipe } from "./bytes";

/** An 8-byte DES key as the 16-byte TDES key K|K the host accepts; TDES keys pass through. */
export function desAsTdes(key: Uint8Array): Uint8Array {
  if (key.length != 8) return key;
  const k = new Uint8Array(16);
  k.set(key, 0);
  k.set(key, 8);
  return k;
}

function validDesKey(key: Uint8Array): bool {
  return key.length == 8 || key.length == 16 || key.length == 24;
}

/** MAC algorithm 1 over a DES/TDES (cbcAlg TDES_CBC; key 8, 16 or 24 bytes), AES (AES_CBC;
 * 16, 24 or 32) or SM4 (SM4_CBC; 16 — the "PBOC-SM4-MAC" of PBOC 3.0 national-algorithm
 * cards, GB/T 15852.1 MAC algorithm 1) block cipher. Null with BAD_PARAMETERS on a bad key
 * length or padding. */
export function macAlg1(cbcAlg: u32, key: Uint8Array, data: Uint8Array, padMethod: i32): Uint8Array | null {
  const isAes = cbcAlg == AES_CBC;
  const isSm4 = cbcAlg == SM4_CBC;
  if (!isAes && !isSm4 && cbcAlg != TDES_CBC) return badParam<Uint8Array>("MAC algorithm 1: cipher must be TDES_CBC, AES_CBC or SM4_CBC");
  if (isAes ? !(key.length == 16 || key.length == 24 || key.length == 32) : isSm4 ? key.length != 16 : !validDesKey(key))
    return badParam<Uint8Array>("MAC algorithm 1: key length not valid for the cipher");
  const wide = isAes || isSm4;
  const bl = wide ? 16 : 8;
  const padded = pad(data, padMethod, bl);
  if (padded == null) return null;
  const k = wide ? key : desAsTdes(key);
  const c = encrypt(cbcAlg, k, padded, new Uint8Array(bl));
  if (k !== key) wipe(k);
  if (c == null) return fail<Uint8Array>(ERROR_GENERIC, "MAC algorithm 1: host cipher refused the key");
  const mac = c.slice(c.length - bl);
  wipe(c);
  wipe(padded);
  return mac;
}

/** MAC algorithm 3 (X9.19 retail MAC) with key K = key1 and K' = key2. Each is a single-DES key
 * (8 bytes, the X9.19 case) or, as some libraries generalise it, a TDES key (16 or 24 bytes). */
export function macAlg3(key1: Uint8Array, key2: Uint8Array, data: Uint8Array, padMethod: i32): Uint8Array | null {
  if (!validDesKey(key1) || !validDesKey(key2)) return badParam<Uint8Array>("MAC algorithm 3: keys must be 8, 16 or 24 bytes");
  const padded = pad(data, padMethod, 8);
  if (padded == null) return null;
  const n = padded.length;
  let out: Uint8Array | null = null;
  if (key1.length == 8 && key2.length == 8) {
    // CBC under K over all blocks but the last, then EDE(K, K', K) on (last block XOR chain).
    const last = padded.slice(n - 8);
    if (n > 8) {
      const k = desAsTdes(key1);
      const body = encrypt(TDES_CBC, k, padded.subarray(0, n - 8), new Uint8Array(8));
      wipe(k);
      if (body == null) { wipe(padded); return fail<Uint8Array>(ERROR_GENERIC, "MAC algorithm 3: host cipher failed"); }
      for (let i = 0; i < 8; i++) last[i] ^= body[body.length - 8 + i];
      wipe(body);
    }
    const kk = new Uint8Array(16);
    kk.set(key1, 0);
    kk.set(key2, 8);
    out = encrypt(TDES_ECB, kk, last);
    wipe(kk);
    wipe(last);
  } else {
    const k1 = desAsTdes(key1);
    const k2 = desAsTdes(key2);
    const c = encrypt(TDES_CBC, k1, padded, new Uint8Array(8));
    if (c != null) {
      const h = c.slice(n - 8);
      wipe(c);
      const d = decrypt(TDES_ECB, k2, h);
      wipe(h);
      if (d != null) { out = encrypt(TDES_ECB, k1, d); wipe(d); }
    }
    if (k1 !== key1) wipe(k1);
    if (k2 !== key2) wipe(k2);
  }
  wipe(padded);
  if (out == null) return fail<Uint8Array>(ERROR_GENERIC, "MAC algorithm 3: host cipher failed");
  return out;
}

/** X9.19 retail MAC with a double-length key K || K' (16 bytes). */
export function retailMac(key: Uint8Array, data: Uint8Array, padMethod: i32): Uint8Array | null {
  if (key.length != 16) return badParam<Uint8Array>("retail MAC: key must be 16 bytes (K || K')");
  return macAlg3(key.subarray(0, 8), key.subarray(8, 16), data, padMethod);
}
