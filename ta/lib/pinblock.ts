// ISO 9564-1:2017 PIN blocks. Formats 0, 1, 2, 3: 8-byte clear blocks (PIN field, XOR the
// PAN field for 0 and 3) that the key store then enciphers (TDES/SM4). Format 4: a 16-byte
// PIN field and PAN field, enciphered under AES in two steps, C = E_K(E_K(PIN field) XOR PAN
// field), and deciphered as PIN field = D_K(D_K(C) XOR PAN field).
//
// Inputs and outputs are digits as values 0..9, one per byte (never ASCII, never a string:
// a string cannot be wiped). A PIN has 4..12 digits; a PAN 1..19 digits (ISO/IEC 7812-1).
// Every function returns a status: >= 0 is success (decoders return the PIN length), < 0 is a
// PinBlockError. Nothing traps on bad input and no status or message carries a PIN digit.
// Every intermediate PIN field and cipher block is wiped before return; the caller owns (and
// wipes) the PIN it passed in and the block or PIN it gets back.
//
// Random parts (format 1 and 3 fill, format 4 random field) come from the TEE random source;
// tests may inject them through the optional last argument.
import * as host from "./host";
import { wipe } from "./bytes";

export enum PinBlockError {
  /** PIN (given, or the length nibble of a block) is not 4..12 digits. */
  PIN_LENGTH = -1,
  /** A PIN digit is not 0..9. */
  PIN_DIGIT = -2,
  /** PAN is not 1..19 digits. */
  PAN_LENGTH = -3,
  /** A PAN digit is not 0..9. */
  PAN_DIGIT = -4,
  /** The PIN block or PIN field given has the wrong length (8 bytes for formats 0–3, 16 for format 4). */
  BLOCK_LENGTH = -5,
  /** The output buffer has the wrong length (a block: exactly 8/16 bytes; a PIN: at least 12). */
  BUFFER_LENGTH = -6,
  /** The control field (first nibble) is not the expected format. */
  CONTROL_FIELD = -7,
  /** A fill nibble is not the value the format requires (F for 0/2, A..F for 3, A for 4). */
  FILL = -8,
  /** An injected fill or random part has the wrong length or a value the format forbids. */
  RANDOM = -9,
  /** The key length does not fit the cipher (AES: 16/24/32 bytes; SM4: 16). */
  KEY_LENGTH = -10,
  /** The host cipher operation failed; its GP status is in lastCipherStatus. */
  CIPHER = -11,
}

export const PIN_MIN_LENGTH: i32 = 4;
export const PIN_MAX_LENGTH: i32 = 12;
export const PAN_MIN_LENGTH: i32 = 1;
export const PAN_MAX_LENGTH: i32 = 19;

/** GP status of the last failing host cipher call (0 when the last call succeeded). */
export let lastCipherStatus: i32 = 0;

/** What went wrong, naming the field and the rule; never the value. */
export function pinBlockErrorMessage(code: i32): string {
  switch (code) {
    case PinBlockError.PIN_LENGTH: return "PIN length must be 4 to 12 digits";
    case PinBlockError.PIN_DIGIT: return "PIN digits must be 0 to 9";
    case PinBlockError.PAN_LENGTH: return "PAN length must be 1 to 19 digits";
    case PinBlockError.PAN_DIGIT: return "PAN digits must be 0 to 9";
    case PinBlockError.BLOCK_LENGTH: return "PIN block length is wrong for the format (8 bytes, 16 for format 4)";
    case PinBlockError.BUFFER_LENGTH: return "output buffer length is wrong (block: 8 or 16 bytes; PIN: at least 12)";
    case PinBlockError.CONTROL_FIELD: return "PIN block control field does not match the format";
    case PinBlockError.FILL: return "PIN block filler is incorrect for the format";
    case PinBlockError.RANDOM: return "injected fill or random field has the wrong length or values";
    case PinBlockError.KEY_LENGTH: return "key length does not fit the cipher";
    case PinBlockError.CIPHER: return "host cipher operation failed";
  }
  return code >= 0 ? "success" : "unknown PIN block error";
}

// ---- internals (exported with _ for pinblock-sm4.ts) ----

@inline export function _nib(b: Uint8Array, i: i32): u8 {
  const v = unchecked(b[i >> 1]);
  return i & 1 ? v & 0x0f : v >> 4;
}

@inline export function _setNib(b: Uint8Array, i: i32, v: u8): void {
  const o = i >> 1;
  const cur = unchecked(b[o]);
  unchecked(b[o] = i & 1 ? (cur & 0xf0) | (v & 0x0f) : (cur & 0x0f) | (v << 4));
}

/** 0, or PIN_LENGTH / PIN_DIGIT. Checks every digit so the time does not depend on where a bad one is. */
export function _checkPin(pin: Uint8Array): i32 {
  const n = pin.length;
  if (n < PIN_MIN_LENGTH || n > PIN_MAX_LENGTH) return PinBlockError.PIN_LENGTH;
  let bad: u32 = 0;
  for (let i = 0; i < n; i++) bad |= <u32>(unchecked(pin[i]) > 9);
  return bad ? PinBlockError.PIN_DIGIT : 0;
}

export function _checkPan(pan: Uint8Array): i32 {
  const n = pan.length;
  if (n < PAN_MIN_LENGTH || n > PAN_MAX_LENGTH) return PinBlockError.PAN_LENGTH;
  for (let i = 0; i < n; i++) if (unchecked(pan[i]) > 9) return PinBlockError.PAN_DIGIT;
  return 0;
}

/** Writes the 12 rightmost PAN digits excluding the check digit (left-padded with zeros) as
 * nibbles starting at nibble `at` of out. The PAN must have been checked. */
export function _pan12(pan: Uint8Array, out: Uint8Array, at: i32): void {
  const body = pan.length - 1; // without the check digit
  for (let i = 0; i < 12; i++) {
    const src = body - 12 + i;
    _setNib(out, at + i, src >= 0 ? unchecked(pan[src]) : 0);
  }
}

/** A PIN field control nibble, length nibble, PIN digits (PIN checked), rest `fill` (0xF / 0xA)
 * or the injected/random nibbles in `fills`. nibbles = 16 (8-byte field) or 32 (format 4, the
 * caller then overwrites the random half). */
function pinFieldHead(control: u8, pin: Uint8Array, out: Uint8Array, fill: u8, fills: Uint8Array | null, fillEnd: i32): void {
  const n = pin.length;
  _setNib(out, 0, control);
  _setNib(out, 1, <u8>n);
  for (let i = 0; i < n; i++) _setNib(out, 2 + i, unchecked(pin[i]));
  for (let i = 2 + n, j = 0; i < fillEnd; i++, j++) _setNib(out, i, fills ? unchecked(fills[j]) : fill);
}

/** count fill nibbles from the TEE random source: any of 0..F (format 1) or A..F (format 3). */
function randomFill(count: i32, aToF: bool): Uint8Array {
  const out = new Uint8Array(count);
  const r = new Uint8Array(16);
  let pos = 32;
  for (let i = 0; i < count; ) {
    if (pos == 32) { host.random(r.dataStart, 16); pos = 0; }
    const v = _nib(r, pos++);
    if (!aToF) unchecked(out[i++] = v);
    else if (v < 12) unchecked(out[i++] = 0x0a + v % 6); // 12 values onto 6: unbiased
  }
  wipe(r);
  return out;
}

/** Validates an injected fill (one nibble per byte, exactly 14 - PIN length of them). */
function checkFill(fill: Uint8Array, pinLen: i32, aToF: bool): i32 {
  if (fill.length != 14 - pinLen) return PinBlockError.RANDOM;
  for (let i = 0; i < fill.length; i++) {
    const v = unchecked(fill[i]);
    if (v > 0x0f || (aToF && v < 0x0a)) return PinBlockError.RANDOM;
  }
  return 0;
}

// ---- PAN fields ----

/** Formats 0 and 3 (and the UnionPay SM4 block's last 8 bytes): 0000 || the 12 rightmost PAN
 * digits excluding the check digit, left-padded with zeros. out: 8 bytes. */
export function panFieldFormat03(pan: Uint8Array, out: Uint8Array): i32 {
  if (out.length != 8) return PinBlockError.BUFFER_LENGTH;
  const c = _checkPan(pan);
  if (c < 0) return c;
  out.fill(0);
  _pan12(pan, out, 4);
  return 0;
}

/** Format 4: M (PAN length - 12, or 0 if shorter) || PAN, left-padded with zeros to 12 digits
 * if shorter || zero pad to 32 nibbles. out: 16 bytes. */
export function panFieldFormat4(pan: Uint8Array, out: Uint8Array): i32 {
  if (out.length != 16) return PinBlockError.BUFFER_LENGTH;
  const c = _checkPan(pan);
  if (c < 0) return c;
  out.fill(0);
  const n = pan.length;
  const pad = n < 12 ? 12 - n : 0;
  _setNib(out, 0, n > 12 ? <u8>(n - 12) : 0);
  for (let i = 0; i < n; i++) _setNib(out, 1 + pad + i, unchecked(pan[i]));
  return 0;
}

// ---- formats 0–3 (8-byte clear blocks) ----

function encode8(control: u8, pin: Uint8Array, pan: Uint8Array | null, out: Uint8Array, fill: Uint8Array | null, random: bool, aToF: bool): i32 {
  if (out.length != 8) return PinBlockError.BUFFER_LENGTH;
  let c = _checkPin(pin);
  if (c < 0) return c;
  if (pan) { c = _checkPan(pan); if (c < 0) return c; }
  let fills: Uint8Array | null = null;
  if (fill) {
    c = checkFill(fill, pin.length, aToF);
    if (c < 0) return c;
    fills = fill;
  } else if (random) {
    fills = randomFill(14 - pin.length, aToF);
  }
  const field = new Uint8Array(8);
  pinFieldHead(control, pin, field, 0x0f, fills, 16);
  if (pan) {
    const pf = new Uint8Array(8);
    _pan12(pan, pf, 4);
    for (let i = 0; i < 8; i++) unchecked(field[i] ^= pf[i]);
    wipe(pf);
  }
  out.set(field);
  wipe(field);
  if (fills && !fill) wipe(fills);
  return 0;
}

/** fillRule: 0 = all F, 1 = any nibble, 3 = A..F. */
function decode8(control: u8, block: Uint8Array, pan: Uint8Array | null, pinOut: Uint8Array, fillRule: i32): i32 {
  if (block.length != 8) return PinBlockError.BLOCK_LENGTH;
  if (pinOut.length < PIN_MAX_LENGTH) return PinBlockError.BUFFER_LENGTH;
  if (pan) { const c = _checkPan(pan); if (c < 0) return c; }
  const field = new Uint8Array(8);
  field.set(block);
  if (pan) {
    const pf = new Uint8Array(8);
    _pan12(pan, pf, 4);
    for (let i = 0; i < 8; i++) unchecked(field[i] ^= pf[i]);
    wipe(pf);
  }
  const r = readPinField(field, control, 16, fillRule, pinOut);
  wipe(field);
  return r;
}

/** Checks a PIN field's control, length, digits and fill over `nibbles`, then copies the PIN
 * into pinOut and returns its length. Nothing is written to pinOut on error. */
function readPinField(field: Uint8Array, control: u8, nibbles: i32, fillRule: i32, pinOut: Uint8Array): i32 {
  if (_nib(field, 0) != control) return PinBlockError.CONTROL_FIELD;
  const n = <i32>_nib(field, 1);
  if (n < PIN_MIN_LENGTH || n > PIN_MAX_LENGTH) return PinBlockError.PIN_LENGTH;
  let bad: u32 = 0;
  for (let i = 0; i < n; i++) bad |= <u32>(_nib(field, 2 + i) > 9);
  if (bad) return PinBlockError.PIN_DIGIT;
  for (let i = 2 + n; i < nibbles; i++) {
    const v = _nib(field, i);
    if (fillRule == 0 && v != 0x0f) return PinBlockError.FILL;
    if (fillRule == 3 && v < 0x0a) return PinBlockError.FILL;
    if (fillRule == 4 && v != 0x0a) return PinBlockError.FILL;
  }
  for (let i = 0; i < n; i++) unchecked(pinOut[i] = _nib(field, 2 + i));
  return n;
}

/** Format 0 (ISO 9564-1 / ANSI X9.8): 0 N PIN F..F XOR the PAN field. out: 8 bytes. */
export function encodeFormat0(pin: Uint8Array, pan: Uint8Array, out: Uint8Array): i32 {
  return encode8(0, pin, pan, out, null, false, false);
}

/** Format 1: 1 N PIN then fill nibbles 0..F (random, or the 14 - N nibbles injected, one per byte). No PAN. */
export function encodeFormat1(pin: Uint8Array, out: Uint8Array, fill: Uint8Array | null = null): i32 {
  return encode8(1, pin, null, out, fill, true, false);
}

/** Format 2 (ICC offline PIN): 2 N PIN F..F. No PAN. */
export function encodeFormat2(pin: Uint8Array, out: Uint8Array): i32 {
  return encode8(2, pin, null, out, null, false, false);
}

/** Format 3: 3 N PIN then random fill A..F (or the 14 - N nibbles injected) XOR the PAN field. */
export function encodeFormat3(pin: Uint8Array, pan: Uint8Array, out: Uint8Array, fill: Uint8Array | null = null): i32 {
  return encode8(3, pin, pan, out, fill, true, true);
}

/** Decoders write the PIN digits to pinOut (at least 12 bytes) and return the PIN length. */
export function decodeFormat0(block: Uint8Array, pan: Uint8Array, pinOut: Uint8Array): i32 {
  return decode8(0, block, pan, pinOut, 0);
}

export function decodeFormat1(block: Uint8Array, pinOut: Uint8Array): i32 {
  return decode8(1, block, null, pinOut, 1);
}

export function decodeFormat2(block: Uint8Array, pinOut: Uint8Array): i32 {
  return decode8(2, block, null, pinOut, 0);
}

export function decodeFormat3(block: Uint8Array, pan: Uint8Array, pinOut: Uint8Array): i32 {
  return decode8(3, block, pan, pinOut, 3);
}

// ---- format 4 (AES) ----

/** Format 4 PIN field: 4 N PIN A..A (to nibble 16) || 8 random bytes (TEE random source, or
 * the 8 bytes injected). out: 16 bytes. */
export function pinFieldFormat4(pin: Uint8Array, out: Uint8Array, random: Uint8Array | null = null): i32 {
  if (out.length != 16) return PinBlockError.BUFFER_LENGTH;
  const c = _checkPin(pin);
  if (c < 0) return c;
  if (random && random.length != 8) return PinBlockError.RANDOM;
  pinFieldHead(4, pin, out, 0x0a, null, 16);
  if (random) {
    for (let i = 0; i < 8; i++) unchecked(out[8 + i] = random[i]);
  } else {
    host.random(out.dataStart + 8, 8);
  }
  return 0;
}

/** Reads a clear format 4 PIN field (16 bytes): control 4, length, digits, A fill; the random
 * half is not checked. Returns the PIN length. */
export function decodePinFieldFormat4(field: Uint8Array, pinOut: Uint8Array): i32 {
  if (field.length != 16) return PinBlockError.BLOCK_LENGTH;
  if (pinOut.length < PIN_MAX_LENGTH) return PinBlockError.BUFFER_LENGTH;
  return readPinField(field, 4, 16, 4, pinOut);
}

/** Two-step encipherment with one AES-ECB operation: out = E(E(pinField) XOR panField). */
export function encipherFormat4Fields(key: Uint8Array, pinField: Uint8Array, panField: Uint8Array, out: Uint8Array): i32 {
  if (pinField.length != 16 || panField.length != 16) return PinBlockError.BLOCK_LENGTH;
  if (out.length != 16) return PinBlockError.BUFFER_LENGTH;
  return twoStep(key, host.MODE_ENCRYPT, pinField, panField, out);
}

/** pinFieldOut = D(D(block) XOR panField); the caller decodes and wipes it. */
export function decipherFormat4Fields(key: Uint8Array, block: Uint8Array, panField: Uint8Array, pinFieldOut: Uint8Array): i32 {
  if (block.length != 16 || panField.length != 16) return PinBlockError.BLOCK_LENGTH;
  if (pinFieldOut.length != 16) return PinBlockError.BUFFER_LENGTH;
  return twoStep(key, host.MODE_DECRYPT, block, panField, pinFieldOut);
}

// One operation handle keyed once for both blocks (GP: set the key once, update twice): the
// second block depends on the first, so cipher_once would key the cipher twice.
function twoStep(key: Uint8Array, mode: u32, input: Uint8Array, panField: Uint8Array, out: Uint8Array): i32 {
  const kl = key.length;
  if (kl != 16 && kl != 24 && kl != 32) return PinBlockError.KEY_LENGTH;
  const h = host.cipher_init(host.ALG_AES_ECB_NOPAD, mode, key.dataStart, kl, 0, 0);
  if (h < 0) { lastCipherStatus = h; return PinBlockError.CIPHER; }
  const mid = new Uint8Array(16);
  let r = host.cipher_update(h, input.dataStart, 16, mid.dataStart);
  if (r >= 0) {
    for (let i = 0; i < 16; i++) unchecked(mid[i] ^= panField[i]);
    r = host.cipher_update(h, mid.dataStart, 16, out.dataStart);
  }
  host.op_free(h);
  wipe(mid);
  if (r < 0) { out.fill(0); lastCipherStatus = r; return PinBlockError.CIPHER; }
  lastCipherStatus = 0;
  return 0;
}

/** Builds the format 4 PIN field and PAN field and enciphers them under the AES key. out: 16 bytes. */
export function encipherFormat4(key: Uint8Array, pin: Uint8Array, pan: Uint8Array, out: Uint8Array, random: Uint8Array | null = null): i32 {
  if (out.length != 16) return PinBlockError.BUFFER_LENGTH;
  const kl = key.length;
  if (kl != 16 && kl != 24 && kl != 32) return PinBlockError.KEY_LENGTH;
  const panField = new Uint8Array(16);
  let r = panFieldFormat4(pan, panField);
  if (r < 0) return r;
  const pinField = new Uint8Array(16);
  r = pinFieldFormat4(pin, pinField, random);
  if (r == 0) r = encipherFormat4Fields(key, pinField, panField, out);
  wipe(pinField);
  wipe(panField);
  return r;
}

/** Deciphers a format 4 block and returns the PIN length, the digits in pinOut (>= 12 bytes). */
export function decipherFormat4(key: Uint8Array, block: Uint8Array, pan: Uint8Array, pinOut: Uint8Array): i32 {
  if (block.length != 16) return PinBlockError.BLOCK_LENGTH;
  if (pinOut.length < PIN_MAX_LENGTH) return PinBlockError.BUFFER_LENGTH;
  const panField = new Uint8Array(16);
  let r = panFieldFormat4(pan, panField);
  if (r < 0) return r;
  const pinField = new Uint8Array(16);
  r = decipherFormat4Fields(key, block, panField, pinField);
  if (r == 0) r = readPinField(pinField, 4, 16, 4, pinOut);
  wipe(pinField);
  wipe(panField);
  return r;
}
