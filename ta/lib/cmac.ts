// CMAC (NIST SP 800-38B; RFC 4493 for AES) over a block cipher: AES-CMAC and TDES-CMAC.
// Subkeys K1/K2 by doubling in GF(2^b) with Rb = 0x87 (b=128) or 0x1B (b=64). All blocks but
// the last go through one CBC call with a zero IV, so a long message costs three host calls.
import { AES_CBC, AES_ECB, TDES_CBC, encrypt } from "./cipher";
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
  const cbcAlg = ecbAlg == AES_ECB ? AES_CBC : TDES_CBC;
  const L = encrypt(ecbAlg, key, new Uint8Array(blockLen));
  if (L == null) return null;
  const k1 = dbl(L);
  const k2 = dbl(k1);
  wipe(L);
  const n = msg.length == 0 ? 1 : (msg.length + blockLen - 1) / blockLen;
  const complete = msg.length > 0 && msg.length % blockLen == 0;
  let chain = new Uint8Array(blockLen);
  if (n > 1) {
    const body = encrypt(cbcAlg, key, msg.subarray(0, (n - 1) * blockLen), new Uint8Array(blockLen));
    if (body == null) { wipe(k1); wipe(k2); return null; }
    chain = body.slice(body.length - blockLen);
  }
  const last = new Uint8Array(blockLen);
  const off = (n - 1) * blockLen;
  for (let j = 0; j < blockLen; j++) {
    const pos = off + j;
    const m: u8 = pos < msg.length ? msg[pos] : (pos == msg.length ? <u8>0x80 : <u8>0);
    last[j] = m ^ (complete ? k1[j] : k2[j]) ^ chain[j];
  }
  wipe(k1);
  wipe(k2);
  return encrypt(ecbAlg, key, last);
}
