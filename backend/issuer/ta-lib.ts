// The issuer side's block ciphers (TDES; SM4 for national-algorithm cards), ISO/IEC 9797-1 padding,
// MAC algorithm 3 and (with SM4) algorithm 1, legacy TDES KCV and ISO 9564-1 format 2 PIN block:
// not a TypeScript copy but ta/lib's AssemblyScript (cipher.ts, padding.ts, mac-iso9797.ts,
// kcv.ts, pinblock.ts), the code the trusted apps run, compiled into
// the back end's HSM module (backend/hsm/as/emv.ts) and called here synchronously.
//
// The module loads once, asynchronously (compiled by asc on first use, then cached; prebuilt in
// the package), through the top-level await below: every module that imports this one — the
// issuer host, the card simulators, the vector operations — is evaluated only after it is ready,
// so their own functions stay synchronous. The instance is not re-entrant, which JavaScript's one
// thread guarantees for these synchronous calls.
import { HsmModule, HsmModuleError } from '../hsm/wasm.ts';

const mod = await HsmModule.load();

export class KeyError extends Error {
  readonly code = 'KEY_INVALID';
}

export class PinError extends Error {
  readonly code = 'PIN_INVALID';
}

export type Padding = 'iso9797_1_method_1' | 'iso9797_1_method_2' | 'iso9797_1_method_3';

const PAD_METHOD: Record<Padding, number> = { iso9797_1_method_1: 1, iso9797_1_method_2: 2, iso9797_1_method_3: 3 };

function padMethod(p: Padding): number {
  const m = PAD_METHOD[p];
  if (m === undefined) throw new RangeError(`unknown padding '${p as string}'`);
  return m;
}

function checkTdesKey(key: Uint8Array): void {
  if (key.length !== 16 && key.length !== 24) throw new KeyError(`TDES key must be 16 or 24 bytes, got ${key.length}`);
}
function checkBlocks(data: Uint8Array): void {
  if (data.length % 8 !== 0) throw new RangeError(`data of ${data.length} bytes is not whole 8-byte blocks`);
}

/** TDES ECB with a double (K1 K2) or triple length key. */
export function tdesEcb(key: Uint8Array, data: Uint8Array, decrypt = false): Uint8Array {
  checkTdesKey(key); checkBlocks(data);
  return mod.call('tdes', [key, new Uint8Array(0), data], [decrypt ? 1 : 0]);
}

/** TDES CBC, IV zero unless given. */
export function tdesCbc(key: Uint8Array, data: Uint8Array, iv: Uint8Array = new Uint8Array(8), decrypt = false): Uint8Array {
  checkTdesKey(key); checkBlocks(data);
  if (iv.length !== 8) throw new RangeError(`TDES IV must be 8 bytes, got ${iv.length}`);
  return mod.call('tdes', [key, iv, data], [decrypt ? 1 : 0]);
}

function checkSm4(key: Uint8Array, data: Uint8Array, iv?: Uint8Array): void {
  if (key.length !== 16) throw new KeyError(`SM4 key must be 16 bytes, got ${key.length}`);
  if (data.length % 16 !== 0) throw new RangeError(`data of ${data.length} bytes is not whole 16-byte blocks`);
  if (iv && iv.length !== 16) throw new RangeError(`SM4 IV must be 16 bytes, got ${iv.length}`);
}

/** SM4 ECB (GB/T 32907-2016), the block cipher of PBOC national-algorithm cards. */
export function sm4Ecb(key: Uint8Array, data: Uint8Array, decrypt = false): Uint8Array {
  checkSm4(key, data);
  return mod.call('sm4', [key, new Uint8Array(0), data], [decrypt ? 1 : 0]);
}

/** SM4 CBC, IV zero unless given. */
export function sm4Cbc(key: Uint8Array, data: Uint8Array, iv: Uint8Array = new Uint8Array(16), decrypt = false): Uint8Array {
  checkSm4(key, data, iv);
  return mod.call('sm4', [key, iv, data], [decrypt ? 1 : 0]);
}

/** ISO/IEC 9797-1 padding to 8-byte (DES/TDES) or 16-byte (SM4) blocks. Method 1: zeros (one
 *  block for empty data); method 2: 0x80 then zeros; method 3: a length block in front, then
 *  method 1. */
export function pad(data: Uint8Array, padding: Padding, block: 8 | 16 = 8): Uint8Array {
  return mod.call('iso9797_pad', [data], [padMethod(padding), block]);
}

/** The data inside an ISO/IEC 9797-1 method-2 padded message of 8- (or 16-) byte blocks; a
 *  RangeError when it is not padded that way (for deciphered data: a wrong key or tampering). */
export function unpadMethod2(padded: Uint8Array, block: 8 | 16 = 8): Uint8Array {
  try {
    return mod.call('iso9797_unpad_method_2', [padded], [block]);
  } catch (e) {
    if (e instanceof HsmModuleError) throw new RangeError('data is not padded with ISO/IEC 9797-1 method 2');
    throw e;
  }
}

/** ISO/IEC 9797-1 MAC algorithm 3 (X9.19 retail MAC) under K1 || K2, leftmost `length` bytes. */
export function retailMac(key: Uint8Array, data: Uint8Array, padding: Padding, length = 8): Uint8Array {
  if (key.length !== 16) throw new KeyError(`retail MAC key must be 16 bytes (K1 K2), got ${key.length}`);
  if (length < 4 || length > 8) throw new RangeError(`MAC length ${length} outside 4..8`);
  return mod.call('retail_mac', [key, data], [padMethod(padding)]).slice(0, length);
}

/** The PBOC-SM4-MAC of national-algorithm (SM) cards: ISO/IEC 9797-1 MAC algorithm 1 with SM4
 *  (CBC, IV zero) and padding method 2 on 16-byte blocks, leftmost `length` bytes — 8 for the
 *  application cryptogram, 4..8 for an issuer script command. Sources and the worked examples
 *  that check it: docs/contactless.md (SM4 section), test/emv/sm4-cryptogram.test.ts. */
export function sm4Mac(key: Uint8Array, data: Uint8Array, length = 8): Uint8Array {
  if (key.length !== 16) throw new KeyError(`SM4 MAC key must be 16 bytes, got ${key.length}`);
  if (length < 4 || length > 16) throw new RangeError(`MAC length ${length} outside 4..16`);
  const mac = mod.call('sm4_mac', [key, data], [padMethod('iso9797_1_method_2')]);
  try { return mac.slice(0, length); } finally { mac.fill(0); }
}

/** Legacy key check value: the leftmost 3 bytes of TDES-ECB(key, 00..00). */
export function kcv(key: Uint8Array): Uint8Array {
  checkTdesKey(key);
  return mod.call('kcv_tdes', [key]);
}

/** PIN digits as values 0..9, one a byte, as ta/lib takes them (the string itself cannot be
 *  wiped; the caller's digits are wiped once the block is made). */
function pinDigits(pin: string, what: string): Uint8Array {
  if (!/^\d{4,12}$/.test(pin)) throw new PinError(`${what} must be 4 to 12 digits, got ${pin.length} characters`);
  return Uint8Array.from(pin, (c) => c.charCodeAt(0) - 48);
}

export function checkPin(pin: string, what = 'PIN'): void {
  pinDigits(pin, what).fill(0);
}

/** ISO 9564-1 format 2 (the ICC PIN block of EMV offline PIN and of M/Chip and EMV CCD PIN
 *  change): control 2, PIN length, the digits, F fill — 8 bytes, no PAN. */
export function iso9564Format2PinBlock(pin: string): Uint8Array {
  const digits = pinDigits(pin, 'PIN');
  try { return mod.call('pin_block_format2', [digits]); } finally { digits.fill(0); }
}

/** The PIN of an ISO 9564-1 format 2 block (a card reading the block of a PIN change); a
 *  PinError naming the rule when it is not one. */
export function pinOfFormat2Block(block: Uint8Array): string {
  let digits: Uint8Array;
  try {
    digits = mod.call('pin_block_format2_decode', [block]);
  } catch (e) {
    if (e instanceof HsmModuleError) throw new PinError(e.message);
    throw e;
  }
  try { return Array.from(digits, (d) => String(d)).join(''); } finally { digits.fill(0); }
}
