// CMAC (NIST SP 800-38B; RFC 4493 for AES) over a block cipher in ECB mode: AES-CMAC and
// TDES-CMAC. Subkeys K1/K2 by doubling in GF(2^b) with Rb = 0x87 (b=128) or 0x1B (b=64).
import { encrypt } from "./cipher";
import { wipe } from "./bytes";

function dbl(b: Uint8Array): Uint8Array {
  const n = b.length;
  const out = new Uint8Array(n);
  let carry: u8 = 0;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = (b[i] << 1) | carry;
    carry = b[i] >> 7;
  }
  if (b[0] & 0x80) out[n - 1] ^= n == 16 ? 0x87 : 0x1b;
  return out;
}

/** The full CMAC tag (one block); null when the host refused the key. ecbAlg is AES_ECB or TDES_ECB. */
export function cmac(ecbAlg: u32, key: Uint8Array, msg: Uint8Array, blockLen: i32): Uint8Array | null {
  const zero = new Uint8Array(blockLen);
  const L = encrypt(ecbAlg, key, zero);
  if (!L) return null;
  const k1 = dbl(L);
  const k2 = dbl(k1);
  wipe(L);
  const n = msg.length == 0 ? 1 : (msg.length + blockLen - 1) / blockLen;
  const complete = msg.length > 0 && msg.length % blockLen == 0;
  // Chain all blocks through one CBC-MAC over ECB calls: X = E(K, X ^ M_i).
  const x = new Uint8Array(blockLen);
  for (let i = 0; i < n; i++) {
    const last = i == n - 1;
    for (let j = 0; j < blockLen; j++) {
      const pos = i * blockLen + j;
      let m: u8 = pos < msg.length ? msg[pos] : (pos == msg.length ? <u8>0x80 : <u8>0);
      if (last) m ^= complete ? k1[j] : k2[j];
      x[j] ^= m;
    }
    const y = encrypt(ecbAlg, key, x);
    if (!y) { wipe(k1); wipe(k2); return null; }
    x.set(y);
  }
  wipe(k1);
  wipe(k2);
  return x;
}
