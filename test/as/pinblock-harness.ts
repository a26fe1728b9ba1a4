// Test harness exposing ta/lib/pinblock.ts and pinblock-sm4.ts over a static I/O buffer.
// Regions of io(): A +0 (PIN digits), B +64 (PAN digits), C +128 (block / fill / random),
// D +192 (key), OUT +256 (result). A length of -1 passes null for an optional argument.
// Each call copies its inputs into fresh arrays, wipes them afterwards, and returns the
// library's status (>= 0 success / PIN length, < 0 PinBlockError).
import * as pb from "../../ta/lib/pinblock";
import * as sm4 from "../../ta/lib/pinblock-sm4";
import { wipe } from "../../ta/lib/bytes";

const buf = memory.data(512);
const A = 0, B = 64, C = 128, D = 192, OUT = 256;
const BAD_ARG: i32 = -100;

export function io(): usize { return buf; }

function arg(off: i32, len: i32): Uint8Array {
  const a = new Uint8Array(len);
  memory.copy(a.dataStart, buf + off, len);
  return a;
}
function opt(off: i32, len: i32): Uint8Array | null { return len < 0 ? null : arg(off, len); }
function ok(len: i32): bool { return len >= 0 && len <= 64; }
function put(a: Uint8Array): void { memory.copy(buf + OUT, a.dataStart, a.length); }
function clean(a: Uint8Array | null): void { if (a) wipe(a); }
/** Wipes the whole I/O buffer (tests call it before scanning memory for leftovers). */
export function clear(): void { memory.fill(buf, 0, 512); }

export function panField03(panLen: i32): i32 {
  if (!ok(panLen)) return BAD_ARG;
  const pan = arg(B, panLen), out = new Uint8Array(8);
  const r = pb.panFieldFormat03(pan, out);
  put(out);
  return r;
}

export function panField4(panLen: i32): i32 {
  if (!ok(panLen)) return BAD_ARG;
  const pan = arg(B, panLen), out = new Uint8Array(16);
  const r = pb.panFieldFormat4(pan, out);
  put(out);
  return r;
}

export function pinField4(pinLen: i32, rndLen: i32): i32 {
  if (!ok(pinLen) || rndLen > 64) return BAD_ARG;
  const pin = arg(A, pinLen), rnd = opt(C, rndLen), out = new Uint8Array(16);
  const r = pb.pinFieldFormat4(pin, out, rnd);
  put(out);
  clean(pin); clean(rnd); wipe(out);
  return r;
}

export function pinField4Decode(fieldLen: i32): i32 {
  if (!ok(fieldLen)) return BAD_ARG;
  const f = arg(C, fieldLen), pin = new Uint8Array(12);
  const r = pb.decodePinFieldFormat4(f, pin);
  put(pin);
  clean(f); wipe(pin);
  return r;
}

/** format 0..3: clear 8-byte block into OUT. fillLen -1 = random fill (formats 1 and 3). */
export function encode(format: i32, pinLen: i32, panLen: i32, fillLen: i32): i32 {
  if (!ok(pinLen) || !ok(panLen) || fillLen > 64) return BAD_ARG;
  const pin = arg(A, pinLen), pan = arg(B, panLen), fill = opt(C, fillLen);
  const out = new Uint8Array(8);
  let r: i32 = BAD_ARG;
  if (format == 0) r = pb.encodeFormat0(pin, pan, out);
  else if (format == 1) r = pb.encodeFormat1(pin, out, fill);
  else if (format == 2) r = pb.encodeFormat2(pin, out);
  else if (format == 3) r = pb.encodeFormat3(pin, pan, out, fill);
  put(out);
  clean(pin); clean(fill); wipe(out);
  return r;
}

/** format 0..3: block from C, PIN digits into OUT; returns the PIN length or an error. */
export function decode(format: i32, blockLen: i32, panLen: i32): i32 {
  if (!ok(blockLen) || !ok(panLen)) return BAD_ARG;
  const block = arg(C, blockLen), pan = arg(B, panLen), pin = new Uint8Array(12);
  let r: i32 = BAD_ARG;
  if (format == 0) r = pb.decodeFormat0(block, pan, pin);
  else if (format == 1) r = pb.decodeFormat1(block, pin);
  else if (format == 2) r = pb.decodeFormat2(block, pin);
  else if (format == 3) r = pb.decodeFormat3(block, pan, pin);
  put(pin);
  clean(block); wipe(pin);
  return r;
}

/** Enciphered format 4 block into OUT (key in D, random in C or -1 for the TEE source). */
export function encipher4(keyLen: i32, pinLen: i32, panLen: i32, rndLen: i32): i32 {
  if (!ok(keyLen) || !ok(pinLen) || !ok(panLen) || rndLen > 64) return BAD_ARG;
  const key = arg(D, keyLen), pin = arg(A, pinLen), pan = arg(B, panLen), rnd = opt(C, rndLen);
  const out = new Uint8Array(16);
  const r = pb.encipherFormat4(key, pin, pan, out, rnd);
  put(out);
  clean(key); clean(pin); clean(rnd);
  return r;
}

export function decipher4(keyLen: i32, blockLen: i32, panLen: i32): i32 {
  if (!ok(keyLen) || !ok(blockLen) || !ok(panLen)) return BAD_ARG;
  const key = arg(D, keyLen), block = arg(C, blockLen), pan = arg(B, panLen), pin = new Uint8Array(12);
  const r = pb.decipherFormat4(key, block, pan, pin);
  put(pin);
  clean(key); wipe(pin);
  return r;
}

/** UnionPay SM4: what = 0 PIN field, 1 PAN field, 2 clear block, 3 enciphered block (key in D). */
export function sm4Encode(what: i32, keyLen: i32, pinLen: i32, panLen: i32): i32 {
  if (!ok(keyLen) || !ok(pinLen) || !ok(panLen)) return BAD_ARG;
  const key = arg(D, keyLen), pin = arg(A, pinLen), pan = arg(B, panLen), out = new Uint8Array(16);
  let r: i32 = BAD_ARG;
  if (what == 0) r = sm4.unionPaySm4PinField(pin, out);
  else if (what == 1) r = sm4.unionPaySm4PanField(pan, out);
  else if (what == 2) r = sm4.encodeUnionPaySm4(pin, pan, out);
  else if (what == 3) r = sm4.encipherUnionPaySm4(key, pin, pan, out);
  put(out);
  clean(key); clean(pin); wipe(out);
  return r;
}

/** UnionPay SM4 decode: enciphered = 1 deciphers with the key in D first. */
export function sm4Decode(enciphered: i32, keyLen: i32, blockLen: i32, panLen: i32): i32 {
  if (!ok(keyLen) || !ok(blockLen) || !ok(panLen)) return BAD_ARG;
  const key = arg(D, keyLen), block = arg(C, blockLen), pan = arg(B, panLen), pin = new Uint8Array(12);
  const r = enciphered ? sm4.decipherUnionPaySm4(key, block, pan, pin) : sm4.decodeUnionPaySm4(block, pan, pin);
  put(pin);
  clean(key); wipe(pin);
  return r;
}

export function cipherStatus(): i32 { return pb.lastCipherStatus; }

/** pinBlockErrorMessage(code) as UTF-8 in OUT; returns its length. */
export function errorText(code: i32): i32 {
  const s = String.UTF8.encode(pb.pinBlockErrorMessage(code));
  const n = min(s.byteLength, 256);
  memory.copy(buf + OUT, changetype<usize>(s), n);
  return n;
}
