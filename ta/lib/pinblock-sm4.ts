// UnionPay SM4 PIN block: the ANSI X9.8 / ISO 9564 format 0 block widened to SM4's 16-byte
// block, as China UnionPay PIN pads use it, then enciphered with SM4-ECB under the PIN key:
//   PIN field = 0 N PIN F..F                  (32 nibbles)
//   PAN field = 0..0 (20 nibbles) || 12 rightmost PAN digits excluding the check digit
//   block     = PIN field XOR PAN field;  enciphered = SM4-ECB(K, block)
// The layout is taken from an informative source (test/vectors/published/pinblock.json,
// cup-sm4-pinblock-blog); confirm it against the UnionPay specification before production use.
// Conventions and error codes are those of pinblock.ts.
import * as host from "./host";
import { wipe } from "./bytes";
import { PinBlockError, PIN_MAX_LENGTH, _checkPan, _checkPin, _nib, _pan12, _setNib } from "./pinblock";

export let lastSm4CipherStatus: i32 = 0;

/** 0 N PIN F..F, 16 bytes. */
export function unionPaySm4PinField(pin: Uint8Array, out: Uint8Array): i32 {
  if (out.length != 16) return PinBlockError.BUFFER_LENGTH;
  const c = _checkPin(pin);
  if (c < 0) return c;
  const n = pin.length;
  out.fill(0xff);
  _setNib(out, 0, 0);
  _setNib(out, 1, <u8>n);
  for (let i = 0; i < n; i++) _setNib(out, 2 + i, unchecked(pin[i]));
  return 0;
}

/** 20 zero nibbles || 12 rightmost PAN digits excluding the check digit, 16 bytes. */
export function unionPaySm4PanField(pan: Uint8Array, out: Uint8Array): i32 {
  if (out.length != 16) return PinBlockError.BUFFER_LENGTH;
  const c = _checkPan(pan);
  if (c < 0) return c;
  out.fill(0);
  _pan12(pan, out, 20);
  return 0;
}

/** The clear 16-byte block: PIN field XOR PAN field. */
export function encodeUnionPaySm4(pin: Uint8Array, pan: Uint8Array, out: Uint8Array): i32 {
  if (out.length != 16) return PinBlockError.BUFFER_LENGTH;
  const pf = new Uint8Array(16);
  let r = unionPaySm4PanField(pan, pf);
  if (r < 0) return r;
  r = unionPaySm4PinField(pin, out);
  if (r < 0) { wipe(pf); return r; }
  for (let i = 0; i < 16; i++) unchecked(out[i] ^= pf[i]);
  wipe(pf);
  return 0;
}

/** Decodes a clear block; returns the PIN length, digits in pinOut (>= 12 bytes). */
export function decodeUnionPaySm4(block: Uint8Array, pan: Uint8Array, pinOut: Uint8Array): i32 {
  if (block.length != 16) return PinBlockError.BLOCK_LENGTH;
  if (pinOut.length < PIN_MAX_LENGTH) return PinBlockError.BUFFER_LENGTH;
  const field = new Uint8Array(16);
  let r = unionPaySm4PanField(pan, field);
  if (r < 0) return r;
  for (let i = 0; i < 16; i++) unchecked(field[i] ^= block[i]);
  r = readField(field, pinOut);
  wipe(field);
  return r;
}

function readField(field: Uint8Array, pinOut: Uint8Array): i32 {
  if (_nib(field, 0) != 0) return PinBlockError.CONTROL_FIELD;
  const n = <i32>_nib(field, 1);
  if (n < 4 || n > PIN_MAX_LENGTH) return PinBlockError.PIN_LENGTH;
  let bad: u32 = 0;
  for (let i = 0; i < n; i++) bad |= <u32>(_nib(field, 2 + i) > 9);
  if (bad) return PinBlockError.PIN_DIGIT;
  for (let i = 2 + n; i < 32; i++) if (_nib(field, i) != 0x0f) return PinBlockError.FILL;
  for (let i = 0; i < n; i++) unchecked(pinOut[i] = _nib(field, 2 + i));
  return n;
}

function sm4(key: Uint8Array, mode: u32, input: Uint8Array, out: Uint8Array): i32 {
  if (key.length != 16) return PinBlockError.KEY_LENGTH;
  const r = host.cipher_once(host.ALG_SM4_ECB_NOPAD, mode, key.dataStart, 16, 0, 0, input.dataStart, 16, out.dataStart);
  if (r < 0) { out.fill(0); lastSm4CipherStatus = r; return PinBlockError.CIPHER; }
  lastSm4CipherStatus = 0;
  return 0;
}

/** SM4-ECB(key, PIN field XOR PAN field). out: 16 bytes. */
export function encipherUnionPaySm4(key: Uint8Array, pin: Uint8Array, pan: Uint8Array, out: Uint8Array): i32 {
  if (out.length != 16) return PinBlockError.BUFFER_LENGTH;
  if (key.length != 16) return PinBlockError.KEY_LENGTH;
  const clear = new Uint8Array(16);
  let r = encodeUnionPaySm4(pin, pan, clear);
  if (r == 0) r = sm4(key, host.MODE_ENCRYPT, clear, out);
  wipe(clear);
  return r;
}

/** Deciphers and decodes; returns the PIN length, digits in pinOut (>= 12 bytes). */
export function decipherUnionPaySm4(key: Uint8Array, block: Uint8Array, pan: Uint8Array, pinOut: Uint8Array): i32 {
  if (block.length != 16) return PinBlockError.BLOCK_LENGTH;
  if (pinOut.length < PIN_MAX_LENGTH) return PinBlockError.BUFFER_LENGTH;
  const clear = new Uint8Array(16);
  let r = sm4(key, host.MODE_DECRYPT, block, clear);
  if (r == 0) r = decodeUnionPaySm4(clear, pan, pinOut);
  wipe(clear);
  return r;
}
