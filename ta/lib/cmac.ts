// CMAC (NIST SP 800-38B; RFC 4493 for AES) over a block cipher: AES-CMAC and TDES-CMAC.
// Subkeys K1/K2 by doubling in GF(2^b) with Rb = 0x87 (b=128) or 0x1B (b=64). All blocks but
// the last go through one CBC call with a zero IV, so a long message costs three host calls.
import { AES_CBC, AES_ECB, TDES_CBC, TDES_ECB, encrypt } from "./cipher";
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

/** The cipher's block length for a CMAC, or 0 when ecbAlg is not AES_ECB or TDES_ECB. */
function blockOf(ecbAlg: u32): i32 {
  return ecbAlg == AES_ECB ? 16 : ecbAlg == TDES_ECB ? 8 : 0;
}

/** The full CMAC tag (one block); null when the host refused the key, or when ecbAlg is not
 * AES_ECB / TDES_ECB or blockLen is not that cipher's block (a wrong pair would compute a tag
 * under the wrong subkey constant Rb). */
export function cmac(ecbAlg: u32, key: Uint8Array, msg: Uint8Array, blockLen: i32): Uint8Array | null {
  if (blockLen == 0 || blockOf(ecbAlg) != blockLen) return null;
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
    wipe(body);
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
  wipe(chain);
  // The last block is the message's tail masked with a subkey: key-dependent, so wiped as well.
  const tag = encrypt(ecbAlg, key, last);
  wipe(last);
  return tag;
}

/** CMAC tags of several messages of at most one block each, all under one key, in two host
 * operations (subkey L, then one ECB pass over every final block). msgs holds the messages
 * back to back, each msgLen bytes (0 < msgLen <= blockLen); returns the tags back to back.
 * Used by the TR-31 / X9.143 key-derivation KDFs, whose inputs are all 8 bytes. */
export function cmacShortMessages(ecbAlg: u32, key: Uint8Array, msgs: Uint8Array, msgLen: i32, blockLen: i32): Uint8Array | null {
  if (blockLen == 0 || blockOf(ecbAlg) != blockLen || msgLen <= 0 || msgLen > blockLen || msgs.length % msgLen != 0) return null;
  const L = encrypt(ecbAlg, key, new Uint8Array(blockLen));
  if (L == null) return null;
  const k1 = dbl(L);
  const k2 = dbl(k1);
  wipe(L);
  const complete = msgLen == blockLen;
  const count = msgs.length / msgLen;
  const last = new Uint8Array(count * blockLen);
  for (let m = 0; m < count; m++) {
    for (let j = 0; j < blockLen; j++) {
      const v: u8 = j < msgLen ? msgs[m * msgLen + j] : (j == msgLen ? <u8>0x80 : <u8>0);
      last[m * blockLen + j] = v ^ (complete ? k1[j] : k2[j]);
    }
  }
  wipe(k1);
  wipe(k2);
  const tags = encrypt(ecbAlg, key, last);
  wipe(last);
  return tags;
}
