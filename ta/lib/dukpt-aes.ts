// AES DUKPT, ANSI X9.24-3:2017: initial key from the BDK and the 8-byte initial key ID (§6.3),
// derivation keys for any transaction counter (§6.1, 6.4), working keys (§6.3.2 key usages),
// update keys (§6.5), and the counter rules: a 32-bit counter with at most 16 one bits, 0 is not
// a transaction, the last is 0xFFFF0000 (exhausted after it).
// Key derivation (§6.3.1): block i of the derived key = AES-ECB(K, derivation data with block
// counter i), derivation data = 01 || i || usage(2) || algorithm(2) || length in bits(2) || 8 KSN
// bytes (the initial key ID for the initial key; else IKID[4..8] || counter). A derived key is
// never longer than the key it comes from. All blocks of one step go in one host ECB call.
// KSN: 12 bytes = initial key ID (8) || transaction counter (4, big-endian).
import { AES_CBC, AES_ECB, encrypt, decrypt, cipherInPlace } from "./cipher";
import { MODE_ENCRYPT } from "./host";
import { cmac } from "./cmac";
import { badParam, fail } from "./error";
import { ERROR_GENERIC, ERROR_OVERFLOW, ERROR_MAC_INVALID } from "./status";
import { wipe, equalCT } from "./bytes";

export const KSN_LEN: i32 = 12;
export const IKID_LEN: i32 = 8;
export const COUNTER_MAX: u32 = 0xffff0000;
export const MAX_COUNTER_ONE_BITS: i32 = 16;

// Derived key types (§6.2.2 algorithm indicator and length).
export const KEY_TDES2: i32 = 0;
export const KEY_TDES3: i32 = 1;
export const KEY_AES128: i32 = 2;
export const KEY_AES192: i32 = 3;
export const KEY_AES256: i32 = 4;
export const KEY_HMAC128: i32 = 5;
export const KEY_HMAC192: i32 = 6;
export const KEY_HMAC256: i32 = 7;

// Key usage indicators (§6.3.2 tables 2 and 3).
export const USAGE_KEY_ENCRYPTION_KEY: u16 = 0x0002;
export const USAGE_PIN_ENCRYPTION: u16 = 0x1000;
export const USAGE_MAC_GENERATION: u16 = 0x2000;
export const USAGE_MAC_VERIFICATION: u16 = 0x2001;
export const USAGE_MAC_BOTH: u16 = 0x2002;
export const USAGE_DATA_ENCRYPT: u16 = 0x3000;
export const USAGE_DATA_DECRYPT: u16 = 0x3001;
export const USAGE_DATA_BOTH: u16 = 0x3002;
export const USAGE_KEY_DERIVATION: u16 = 0x8000;
export const USAGE_KEY_DERIVATION_INITIAL_KEY: u16 = 0x8001;

/** Length in bytes of a derived key type, or 0 for an unknown type. */
export function keyTypeLength(keyType: i32): i32 {
  switch (keyType) {
    case KEY_TDES2: case KEY_AES128: case KEY_HMAC128: return 16;
    case KEY_TDES3: case KEY_AES192: case KEY_HMAC192: return 24;
    case KEY_AES256: case KEY_HMAC256: return 32;
  }
  return 0;
}

function algorithmIndicator(keyType: i32): u16 {
  return keyType >= KEY_HMAC128 ? 5 : <u16>keyType;
}

/** The AES key type of a derivation key (BDK, initial key, intermediate key) by its length. */
export function aesKeyTypeOf(len: i32): i32 {
  return len == 16 ? KEY_AES128 : len == 24 ? KEY_AES192 : len == 32 ? KEY_AES256 : -1;
}

/** The transaction counter of a 12-byte KSN. */
export function ksnCounter(ksn: Uint8Array): u32 {
  return (<u32>ksn[8] << 24) | (<u32>ksn[9] << 16) | (<u32>ksn[10] << 8) | <u32>ksn[11];
}

export function ksnWithCounter(ksn: Uint8Array, counter: u32): Uint8Array {
  const out = ksn.slice(0, KSN_LEN);
  out[8] = <u8>(counter >> 24);
  out[9] = <u8>(counter >> 16);
  out[10] = <u8>(counter >> 8);
  out[11] = <u8>counter;
  return out;
}

/** True when the counter is one an originator may use (non-zero, at most 16 one bits). */
export function counterValid(counter: u32): bool {
  return counter != 0 && <i32>popcnt(counter) <= MAX_COUNTER_ONE_BITS;
}

// Working buffers reused by every derivation and wiped before each public function returns: the
// derivation walk runs in place (each step's key overwrites its parent in KEY), so the PIN path
// allocates only its 16-byte result. TAs are single-threaded, and nothing here re-enters.
const KEY = new Uint8Array(32);
const DD = new Uint8Array(32);
const KD = new Uint8Array(8);
const ZERO_IV = new Uint8Array(16);

function wipeWork(): void {
  wipe(KEY);
  wipe(DD);
}

/** One derivation: the keyType key from the first keyLen bytes of key, with KD as the 8 KSN bytes
 * of the derivation data, into dst (which may be key). False on a host error. */
function deriveInto(key: Uint8Array, keyLen: i32, usage: u16, keyType: i32, dst: Uint8Array): bool {
  const len = keyTypeLength(keyType);
  const blocks = (len + 15) >> 4;
  const alg = algorithmIndicator(keyType);
  const bits = <u16>(len * 8);
  for (let b = 0; b < blocks; b++) {
    const o = b * 16;
    DD[o] = 0x01;
    DD[o + 1] = <u8>(b + 1);
    DD[o + 2] = <u8>(usage >> 8);
    DD[o + 3] = <u8>usage;
    DD[o + 4] = <u8>(alg >> 8);
    DD[o + 5] = <u8>alg;
    DD[o + 6] = <u8>(bits >> 8);
    DD[o + 7] = <u8>bits;
    for (let i = 0; i < 8; i++) DD[o + 8 + i] = KD[i];
  }
  if (!cipherInPlace(AES_ECB, MODE_ENCRYPT, key, keyLen, null, DD, blocks * 16)) return false;
  memory.copy(dst.dataStart, DD.dataStart, len);
  return true;
}

/** deriveInto a new array of the key's length. */
function deriveKey(key: Uint8Array, usage: u16, keyType: i32): Uint8Array | null {
  const out = new Uint8Array(keyTypeLength(keyType));
  const ok = deriveInto(key, key.length, usage, keyType, out);
  wipe(DD);
  if (!ok) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher failed");
  return out;
}

/** KD = IKID[4..8] || counter (big-endian): the KSN bytes of the derivation data (ksn: a KSN or
 * the initial key ID, both begin with the 8 initial key ID bytes). */
function setCounterData(ksn: Uint8Array, counter: u32): void {
  for (let i = 0; i < 4; i++) KD[i] = ksn[4 + i];
  KD[4] = <u8>(counter >> 24);
  KD[5] = <u8>(counter >> 16);
  KD[6] = <u8>(counter >> 8);
  KD[7] = <u8>counter;
}

/** Initial key = derivation from the BDK (AES-128/192/256) with usage 8001 and the initial key ID. */
export function initialKey(bdk: Uint8Array, initialKeyId: Uint8Array): Uint8Array | null {
  const t = aesKeyTypeOf(bdk.length);
  if (t < 0) return badParam<Uint8Array>("DUKPT AES: BDK must be 16, 24 or 32 bytes");
  if (initialKeyId.length != IKID_LEN) return badParam<Uint8Array>("DUKPT AES: initial key ID must be 8 bytes");
  KD.set(initialKeyId);
  return deriveKey(bdk, USAGE_KEY_DERIVATION_INITIAL_KEY, t);
}

/** Walks the counter's one bits from the most significant, one derivation per bit, in place in
 * KEY (no counter rule check: the update key path uses counter 0xFFFFFFFF). False on a host
 * error, with KEY wiped. */
function walk(ik: Uint8Array, ksn: Uint8Array, counter: u32): bool {
  const t = aesKeyTypeOf(ik.length);
  const n = ik.length;
  KEY.set(ik);
  let working: u32 = 0;
  for (let bit: i32 = 31; bit >= 0; bit--) {
    const m: u32 = <u32>1 << bit;
    if ((counter & m) == 0) continue;
    working |= m;
    setCounterData(ksn, working);
    if (!deriveInto(KEY, n, USAGE_KEY_DERIVATION, t, KEY)) { wipeWork(); return false; }
  }
  wipe(DD);
  return true;
}

/** The derivation-key checks (BAD_PARAMETERS): the transaction counter, or 0 after a failure. */
function checkedCounter(ik: Uint8Array, ksn: Uint8Array): u32 {
  if (aesKeyTypeOf(ik.length) < 0) { badParam<Uint8Array>("DUKPT AES: initial key must be 16, 24 or 32 bytes"); return 0; }
  if (ksn.length != KSN_LEN) { badParam<Uint8Array>("DUKPT AES: KSN must be 12 bytes"); return 0; }
  const c = ksnCounter(ksn);
  if (c == 0) { badParam<Uint8Array>("DUKPT AES: transaction counter 0 is not a transaction"); return 0; }
  if (!counterValid(c)) { badParam<Uint8Array>("DUKPT AES: transaction counter has more than 16 one bits"); return 0; }
  return c;
}

/** KEY's first n bytes as a new array, then KEY wiped. */
function takeKey(n: i32): Uint8Array {
  const k = KEY.slice(0, n);
  wipeWork();
  return k;
}

/** The derivation key of the KSN's transaction (the key its working keys come from). */
export function derivationKey(ik: Uint8Array, ksn: Uint8Array): Uint8Array | null {
  const c = checkedCounter(ik, ksn);
  if (c == 0) return null;
  if (!walk(ik, ksn, c)) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher failed");
  return takeKey(ik.length);
}

/** A working key of a transaction: usage one of USAGE_*, keyType one of KEY_*; never longer than
 * the derivation key (BAD_PARAMETERS). */
export function workingKey(derivKey: Uint8Array, ksn: Uint8Array, usage: u16, keyType: i32): Uint8Array | null {
  const dt = aesKeyTypeOf(derivKey.length);
  if (dt < 0) return badParam<Uint8Array>("DUKPT AES: derivation key must be 16, 24 or 32 bytes");
  if (ksn.length != KSN_LEN) return badParam<Uint8Array>("DUKPT AES: KSN must be 12 bytes");
  const len = keyTypeLength(keyType);
  if (len == 0) return badParam<Uint8Array>("DUKPT AES: unknown working key type");
  if (len > derivKey.length) return badParam<Uint8Array>("DUKPT AES: working key longer than its derivation key");
  if (!isWorkingUsage(usage)) return badParam<Uint8Array>("DUKPT AES: key usage is not a working-key usage");
  setCounterData(ksn, ksnCounter(ksn));
  return deriveKey(derivKey, usage, keyType);
}

function isWorkingUsage(u: u16): bool {
  return u == USAGE_KEY_ENCRYPTION_KEY || u == USAGE_PIN_ENCRYPTION || u == USAGE_MAC_GENERATION ||
    u == USAGE_MAC_VERIFICATION || u == USAGE_MAC_BOTH || u == USAGE_DATA_ENCRYPT ||
    u == USAGE_DATA_DECRYPT || u == USAGE_DATA_BOTH;
}

/** The DUKPT update key (§6.5): the key-encryption-key usage derived from the derivation key of
 * counter 0xFFFFFFFF. */
export function updateKey(ik: Uint8Array, initialKeyId: Uint8Array, keyType: i32): Uint8Array | null {
  if (aesKeyTypeOf(ik.length) < 0) return badParam<Uint8Array>("DUKPT AES: initial key must be 16, 24 or 32 bytes");
  if (initialKeyId.length != IKID_LEN) return badParam<Uint8Array>("DUKPT AES: initial key ID must be 8 bytes");
  const len = keyTypeLength(keyType);
  if (len == 0 || keyType < KEY_AES128 || keyType > KEY_AES256) return badParam<Uint8Array>("DUKPT AES: update key must be AES");
  if (len > ik.length) return badParam<Uint8Array>("DUKPT AES: update key longer than the initial key");
  const ksn = new Uint8Array(KSN_LEN);
  ksn.set(initialKeyId, 0);
  if (!walk(ik, ksn, 0xffffffff)) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher failed");
  setCounterData(ksn, 0xffffffff);
  const ok = deriveInto(KEY, ik.length, USAGE_KEY_ENCRYPTION_KEY, keyType, KEY);
  if (!ok) { wipeWork(); return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher failed"); }
  return takeKey(len);
}

/** The next KSN after ksn (counter + 1, skipping counters with more than 16 one bits); null with
 * ERROR_OVERFLOW once past 0xFFFF0000. */
export function nextKsn(ksn: Uint8Array): Uint8Array | null {
  if (ksn.length != KSN_LEN) return badParam<Uint8Array>("DUKPT AES: KSN must be 12 bytes");
  let c = <u64>ksnCounter(ksn);
  if (c >= <u64>COUNTER_MAX) return fail<Uint8Array>(ERROR_OVERFLOW, "DUKPT AES: transaction counter exhausted");
  c++;
  while (<i32>popcnt(c) > MAX_COUNTER_ONE_BITS) c += c & (~c + 1);
  if (c > <u64>COUNTER_MAX) return fail<Uint8Array>(ERROR_OVERFLOW, "DUKPT AES: transaction counter exhausted");
  return ksnWithCounter(ksn, <u32>c);
}

/** ISO 9564-1 format 4 encipherment under an AES PIN key: E(K, E(K, PIN field) XOR PAN field).
 * That is the second block of AES-CBC(K, IV 0, PIN field || PAN field): one host operation. */
export function encryptPinBlock(pinKey: Uint8Array, pinField: Uint8Array, panField: Uint8Array): Uint8Array | null {
  if (pinField.length != 16 || panField.length != 16) return badParam<Uint8Array>("DUKPT AES: PIN and PAN fields must be 16 bytes");
  return pinBlockUnder(pinKey, pinKey.length, pinField, panField);
}

/** encryptPinBlock under the first keyLen bytes of key, in DD; wipes KEY and DD. */
function pinBlockUnder(key: Uint8Array, keyLen: i32, pinField: Uint8Array, panField: Uint8Array): Uint8Array | null {
  DD.set(pinField, 0);
  DD.set(panField, 16);
  const ok = cipherInPlace(AES_CBC, MODE_ENCRYPT, key, keyLen, ZERO_IV, DD, 32);
  const out = ok ? DD.slice(16, 32) : null;
  wipeWork();
  if (!ok) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher refused the PIN key");
  return out;
}

/** Inverse of encryptPinBlock: the clear PIN field. */
export function decryptPinBlock(pinKey: Uint8Array, block: Uint8Array, panField: Uint8Array): Uint8Array | null {
  if (block.length != 16 || panField.length != 16) return badParam<Uint8Array>("DUKPT AES: PIN block and PAN field must be 16 bytes");
  // AES-CBC-decrypt(IV 0) of PAN field || block: second output block = D(block) XOR PAN field.
  const buf = new Uint8Array(32);
  buf.set(panField, 0);
  buf.set(block, 16);
  const p = decrypt(AES_CBC, pinKey, buf, new Uint8Array(16));
  if (p == null) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher refused the PIN key");
  const mid = p.slice(16, 32);
  wipe(p);
  const pin = decrypt(AES_ECB, pinKey, mid);
  wipe(mid);
  return pin;
}

/** PIN-key derivation and encipherment of one format-4 block, from the initial key: the hot
 * path of a PIN pad (popcount(counter) + 2 host operations, all in the static buffers). */
export function encryptPinFromInitialKey(ik: Uint8Array, ksn: Uint8Array, keyType: i32, pinField: Uint8Array, panField: Uint8Array): Uint8Array | null {
  if (keyType < KEY_AES128 || keyType > KEY_AES256) return badParam<Uint8Array>("DUKPT AES: PIN key must be AES");
  const c = checkedCounter(ik, ksn);
  if (c == 0) return null;
  const len = keyTypeLength(keyType);
  if (len > ik.length) return badParam<Uint8Array>("DUKPT AES: working key longer than its derivation key");
  if (pinField.length != 16 || panField.length != 16) return badParam<Uint8Array>("DUKPT AES: PIN and PAN fields must be 16 bytes");
  if (!walk(ik, ksn, c)) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher failed");
  setCounterData(ksn, c);
  if (!deriveInto(KEY, ik.length, USAGE_PIN_ENCRYPTION, keyType, KEY)) { wipeWork(); return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher failed"); }
  return pinBlockUnder(KEY, len, pinField, panField);
}

/** AES-CMAC of data under the MAC generation (request) or verification (response) key. */
export function macWithUsage(derivKey: Uint8Array, ksn: Uint8Array, keyType: i32, data: Uint8Array, response: bool): Uint8Array | null {
  if (keyType < KEY_AES128 || keyType > KEY_AES256) return badParam<Uint8Array>("DUKPT AES: CMAC key must be AES");
  const k = workingKey(derivKey, ksn, response ? USAGE_MAC_VERIFICATION : USAGE_MAC_GENERATION, keyType);
  if (k == null) return null;
  const m = cmac(AES_ECB, k, data, 16);
  wipe(k);
  if (m == null) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher failed");
  return m;
}

/** Verifies a (possibly truncated, >= 4 bytes) CMAC in constant time; ERROR_MAC_INVALID. */
export function verifyMac(derivKey: Uint8Array, ksn: Uint8Array, keyType: i32, data: Uint8Array, mac: Uint8Array, response: bool): bool {
  if (mac.length < 4 || mac.length > 16) { badParam<Uint8Array>("DUKPT AES: MAC must be 4 to 16 bytes"); return false; }
  const m = macWithUsage(derivKey, ksn, keyType, data, response);
  if (m == null) return false;
  const ok = equalCT(m.subarray(0, mac.length), mac);
  wipe(m);
  if (!ok) fail<Uint8Array>(ERROR_MAC_INVALID, "DUKPT AES: MAC does not verify");
  return ok;
}

/** AES-CBC encryption or decryption of data (a multiple of 16 bytes) under the data key of the
 * request (usage 3000) or response (usage 3001). */
export function dataCipher(derivKey: Uint8Array, ksn: Uint8Array, keyType: i32, data: Uint8Array, iv: Uint8Array, response: bool, decryptIt: bool): Uint8Array | null {
  if (keyType < KEY_AES128 || keyType > KEY_AES256) return badParam<Uint8Array>("DUKPT AES: data key must be AES");
  if (data.length == 0 || data.length % 16 != 0) return badParam<Uint8Array>("DUKPT AES: data must be a non-empty multiple of 16 bytes");
  if (iv.length != 16) return badParam<Uint8Array>("DUKPT AES: IV must be 16 bytes");
  const k = workingKey(derivKey, ksn, response ? USAGE_DATA_DECRYPT : USAGE_DATA_ENCRYPT, keyType);
  if (k == null) return null;
  const out = decryptIt ? decrypt(AES_CBC, k, data, iv) : encrypt(AES_CBC, k, data, iv);
  wipe(k);
  if (out == null) return fail<Uint8Array>(ERROR_GENERIC, "DUKPT AES: host cipher failed");
  return out;
}

/** One step of the derivation tree (X9.24-3 §6.3.3): the derivation key for `counter` from the
 * key of its parent (counter with its lowest one bit cleared). The originator's register
 * algorithm uses it directly so it never needs the initial key after loading. */
export function derivationStep(parentKey: Uint8Array, initialKeyId: Uint8Array, counter: u32): Uint8Array | null {
  const t = aesKeyTypeOf(parentKey.length);
  if (t < 0) return badParam<Uint8Array>("DUKPT AES: derivation key must be 16, 24 or 32 bytes");
  if (initialKeyId.length != IKID_LEN) return badParam<Uint8Array>("DUKPT AES: initial key ID must be 8 bytes");
  setCounterData(initialKeyId, counter);
  return deriveKey(parentKey, USAGE_KEY_DERIVATION, t);
}
