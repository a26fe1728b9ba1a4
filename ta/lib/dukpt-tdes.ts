// TDES DUKPT, ANSI X9.24-1:2009 (Annex A): initial key (IPEK) from the BDK and the initial KSN,
// the non-reversible key generation process, the transaction key of any KSN (receiver side), the
// originator's future-key registers, and the working-key variants:
//   PIN            XOR 00000000000000FF 00000000000000FF
//   MAC request    XOR 000000000000FF00 000000000000FF00
//   MAC response   XOR 00000000FF000000 00000000FF000000
//   data request   XOR 0000000000FF0000 0000000000FF0000, then each half TDES-encrypted under it
//   data response  XOR 000000FF00000000 000000FF00000000, then the same one-way step
// KSN: 10 bytes = key set id / device id (59 bits) || 21-bit transaction counter. An originator
// never uses a counter with more than 10 one bits; counter 0 is not a transaction. Every key
// here is 16 bytes (double-length TDES). Intermediate keys are wiped after use.
import { TDES_CBC, TDES_ECB, encrypt, decrypt as cipherDecrypt } from "./cipher";
import { retailMac } from "./mac-iso9797";
import { cmac } from "./cmac";
import { PAD_METHOD_1 } from "./padding";
import { badParam, fail } from "./error";
import { ERROR_GENERIC, ERROR_OVERFLOW } from "./status";
import { wipe } from "./bytes";

export const KSN_LEN: i32 = 10;
export const KEY_LEN: i32 = 16;
export const COUNTER_MASK: u32 = 0x1fffff;
/** The last counter an originator may use (10 one bits in the top positions). */
export const COUNTER_MAX: u32 = 0x1ff800;
export const MAX_COUNTER_ONE_BITS: i32 = 10;

export const VARIANT_PIN: i32 = 0;
export const VARIANT_MAC_REQUEST: i32 = 1;
export const VARIANT_MAC_RESPONSE: i32 = 2;
export const VARIANT_DATA_REQUEST: i32 = 3;
export const VARIANT_DATA_RESPONSE: i32 = 4;

/** The 21-bit transaction counter of a KSN. */
export function ksnCounter(ksn: Uint8Array): u32 {
  return ((<u32>ksn[7] << 16) | (<u32>ksn[8] << 8) | <u32>ksn[9]) & COUNTER_MASK;
}

/** A copy of the KSN with the counter replaced. */
export function ksnWithCounter(ksn: Uint8Array, counter: u32): Uint8Array {
  const out = ksn.slice(0, KSN_LEN);
  out[7] = (out[7] & 0xe0) | <u8>((counter >> 16) & 0x1f);
  out[8] = <u8>(counter >> 8);
  out[9] = <u8>counter;
  return out;
}

function checkKsn(ksn: Uint8Array): bool {
  return ksn.length == KSN_LEN;
}

/** IPEK = TDES(BDK, KSN') || TDES(BDK ^ C0C0C0C000000000C0C0C0C000000000, KSN') where KSN' is
 * the leftmost 8 bytes of the KSN with the counter cleared. */
export function deriveIpek(bdk: Uint8Array, ksn: Uint8Array): Uint8Array | null {
  if (bdk.length != 16) return badParam<Uint8Array>("DUKPT TDES: BDK must be 16 bytes (double-length TDES)");
  if (!checkKsn(ksn)) return badParam<Uint8Array>("DUKPT TDES: KSN must be 10 bytes");
  const m = ksn.slice(0, 8);
  m[7] &= 0xe0;
  const left = encrypt(TDES_ECB, bdk, m);
  const v = bdk.slice();
  for (let i = 0; i < 16; i++) if ((i & 7) < 4) v[i] ^= 0xc0;
  const right = encrypt(TDES_ECB, v, m);
  wipe(v);
  if (left == null || right == null) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT TDES: host cipher failed");
  const ipek = new Uint8Array(16);
  ipek.set(left!, 0);
  ipek.set(right!, 8);
  wipe(left!);
  wipe(right!);
  return ipek;
}

/** Non-reversible key generation process (X9.24-1 A.2): a new key from key and the 8-byte KSN
 * register. Each half costs one single-DES operation. */
export function nonReversibleKey(key: Uint8Array, reg: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(16);
  const k = new Uint8Array(16); // single-DES key as K|K
  const blk = new Uint8Array(8);
  for (let half = 0; half < 2; half++) {
    // half 0 -> right half of the new key under key; half 1 -> left half under key ^ C0C0C0C0..
    for (let i = 0; i < 8; i++) {
      const kl: u8 = half == 1 && i < 4 ? key[i] ^ 0xc0 : key[i];
      k[i] = kl;
      k[i + 8] = kl;
      const kr: u8 = half == 1 && i < 4 ? key[8 + i] ^ 0xc0 : key[8 + i];
      blk[i] = reg[i] ^ kr;
    }
    const c = encrypt(TDES_ECB, k, blk);
    if (c == null) { wipe(k); wipe(out); return fail<Uint8Array>(ERROR_GENERIC, "DUKPT TDES: host cipher failed"); }
    const off = half == 0 ? 8 : 0;
    for (let i = 0; i < 8; i++) {
      const kr: u8 = half == 1 && i < 4 ? key[8 + i] ^ 0xc0 : key[8 + i];
      out[off + i] = c[i] ^ kr;
    }
    wipe(c);
  }
  wipe(k);
  wipe(blk);
  return out;
}

function popcount21(c: u32): i32 {
  return <i32>popcnt(c & COUNTER_MASK);
}

/** The transaction key for a KSN, derived from the IPEK (receiver side, X9.24-1 A.3): one
 * non-reversible step per one bit of the counter, from the most significant. Rejects counter 0
 * and counters with more than 10 one bits (BAD_PARAMETERS). */
export function transactionKey(ipek: Uint8Array, ksn: Uint8Array): Uint8Array | null {
  if (ipek.length != 16) return badParam<Uint8Array>("DUKPT TDES: initial key must be 16 bytes");
  if (!checkKsn(ksn)) return badParam<Uint8Array>("DUKPT TDES: KSN must be 10 bytes");
  const counter = ksnCounter(ksn);
  if (counter == 0) return badParam<Uint8Array>("DUKPT TDES: KSN counter 0 is not a transaction");
  if (popcount21(counter) > MAX_COUNTER_ONE_BITS) return badParam<Uint8Array>("DUKPT TDES: KSN counter has more than 10 one bits");
  const reg = ksn.slice(2, 10);
  reg[5] &= 0xe0;
  reg[6] = 0;
  reg[7] = 0;
  let key = ipek.slice();
  for (let bit: i32 = 20; bit >= 0; bit--) {
    const b: u32 = 1 << bit;
    if ((counter & b) == 0) continue;
    reg[5] |= <u8>(b >> 16);
    reg[6] |= <u8>(b >> 8);
    reg[7] |= <u8>b;
    const next = nonReversibleKey(key, reg);
    wipe(key);
    if (next == null) return null;
    key = next;
  }
  return key;
}

/** A working key of the transaction key (see the variants above). */
export function workingKey(txnKey: Uint8Array, variant: i32): Uint8Array | null {
  if (txnKey.length != 16) return badParam<Uint8Array>("DUKPT TDES: transaction key must be 16 bytes");
  let pos: i32;
  if (variant == VARIANT_PIN) pos = 7;
  else if (variant == VARIANT_MAC_REQUEST) pos = 6;
  else if (variant == VARIANT_MAC_RESPONSE) pos = 4;
  else if (variant == VARIANT_DATA_REQUEST) pos = 5;
  else if (variant == VARIANT_DATA_RESPONSE) pos = 3;
  else return badParam<Uint8Array>("DUKPT TDES: unknown key variant");
  const k = txnKey.slice();
  k[pos] ^= 0xff;
  k[pos + 8] ^= 0xff;
  if (variant == VARIANT_DATA_REQUEST || variant == VARIANT_DATA_RESPONSE) {
    // One-way step: both halves TDES-ECB encrypted under the variant key itself.
    const d = encrypt(TDES_ECB, k, k);
    wipe(k);
    if (d == null) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT TDES: host cipher failed");
    return d;
  }
  return k;
}

/** Encrypts an 8-byte clear PIN block (ISO 9564 format 0 or 3) under the PIN variant. */
export function encryptPinBlock(txnKey: Uint8Array, clearPinBlock: Uint8Array): Uint8Array | null {
  if (clearPinBlock.length != 8) return badParam<Uint8Array>("DUKPT TDES: clear PIN block must be 8 bytes");
  const k = workingKey(txnKey, VARIANT_PIN);
  if (k == null) return null;
  const c = encrypt(TDES_ECB, k, clearPinBlock);
  wipe(k);
  return c;
}

/** X9.19 retail MAC (ISO 9797-1 algorithm 3, padding method 1) under the request (response =
 * false) or response MAC variant: the full 8-byte MAC; X9.24 transmits its leftmost 4 bytes. */
export function retailMacVariant(txnKey: Uint8Array, data: Uint8Array, response: bool): Uint8Array | null {
  const k = workingKey(txnKey, response ? VARIANT_MAC_RESPONSE : VARIANT_MAC_REQUEST);
  if (k == null) return null;
  const m = retailMac(k, data, PAD_METHOD_1);
  wipe(k);
  return m;
}

/** TDES-CMAC (SP 800-38B) under the request or response MAC variant (8 bytes). */
export function cmacVariant(txnKey: Uint8Array, data: Uint8Array, response: bool): Uint8Array | null {
  const k = workingKey(txnKey, response ? VARIANT_MAC_RESPONSE : VARIANT_MAC_REQUEST);
  if (k == null) return null;
  const m = cmac(TDES_ECB, k, data, 8);
  wipe(k);
  if (m == null) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT TDES: host cipher failed");
  return m;
}

/** TDES-CBC encryption (decrypt = false) or decryption of data (a multiple of 8 bytes) under the
 * request or response data key. */
export function dataCipher(txnKey: Uint8Array, data: Uint8Array, iv: Uint8Array, response: bool, decrypt: bool): Uint8Array | null {
  if (data.length == 0 || data.length % 8 != 0) return badParam<Uint8Array>("DUKPT TDES: data must be a non-empty multiple of 8 bytes");
  if (iv.length != 8) return badParam<Uint8Array>("DUKPT TDES: IV must be 8 bytes");
  const k = workingKey(txnKey, response ? VARIANT_DATA_RESPONSE : VARIANT_DATA_REQUEST);
  if (k == null) return null;
  const out = decrypt ? cipherDecrypt(TDES_CBC, k, data, iv) : encrypt(TDES_CBC, k, data, iv);
  wipe(k);
  if (out == null) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT TDES: host cipher failed");
  return out;
}


/** The next KSN an originator uses after ksn: counter + 1, skipping counters with more than 10
 * one bits. Null with ERROR_OVERFLOW when the key set is exhausted (past 0x1FF800). */
export function nextKsn(ksn: Uint8Array): Uint8Array | null {
  if (!checkKsn(ksn)) return badParam<Uint8Array>("DUKPT TDES: KSN must be 10 bytes");
  let c = ksnCounter(ksn);
  if (c >= COUNTER_MAX) return fail<Uint8Array>(ERROR_OVERFLOW, "DUKPT TDES: transaction counter exhausted");
  c++;
  while (popcount21(c) > MAX_COUNTER_ONE_BITS) c += c & (~c + 1);
  if (c > COUNTER_MAX) return fail<Uint8Array>(ERROR_OVERFLOW, "DUKPT TDES: transaction counter exhausted");
  return ksnWithCounter(ksn, c);
}
