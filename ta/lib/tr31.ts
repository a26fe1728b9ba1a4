// TR-31 / ANSI X9.143:2022 key blocks, versions A, B, C, D, and ISO 20038:2017 version E.
//   key block = header (ASCII, tr31-header.ts) || hex(encrypted payload) || hex(authenticator)
//   payload   = key length in bits (2 bytes) || key || padding (random; also masks the key length)
//   A, C  key variant binding: TDES-CBC(KBEK, IV = header[0..8]); MAC = leftmost 4 bytes of
//         TDES CBC-MAC (ISO 9797-1 alg. 1) over header || ciphertext.
//   B     TDES key derivation: MAC = TDES-CMAC(KBAK, header || payload), 8 bytes;
//         ciphertext = TDES-CBC(KBEK, IV = MAC).
//   D     AES key derivation: MAC = AES-CMAC(KBAK, header || payload), 16 bytes; AES-CBC, IV = MAC.
//   E     as D with AES-CTR (initial counter block = MAC) and the CTR-mode KBEK; no block padding.
// The header (fixed part and optional blocks) is a multiple of the cipher block for A-D.
// unwrap() authenticates before it reads or returns anything from the payload: for A/C the MAC
// is checked before decryption; for B/D/E (MAC over the clear payload) the payload is decrypted
// into a scratch buffer, the MAC checked in constant time, and the buffer wiped on failure. A
// changed header, length, ciphertext or MAC is rejected (ERROR_MAC_INVALID or ERROR_BAD_FORMAT);
// hex must be upper case, so no two encodings of one block are accepted.
// Padding is injectable (wrap's padding argument) so wraps are reproducible in tests; null draws
// it from the TEE random source.
import { AES_CBC, AES_ECB, TDES_CBC, TDES_ECB, encrypt, decrypt } from "./cipher";
import { cmac } from "./cmac";
import { macAlg1 } from "./mac-iso9797";
import { PAD_METHOD_1 } from "./padding";
import { KeyPair, kbpkVariant, kbpkDeriveTdes, kbpkDeriveAes, isAesKbpk, isTdesKbpk } from "./tr31-kbpk";
import { Tr31Header, parseHeader } from "./tr31-header";
import { badParam, fail } from "./error";
import { ERROR_BAD_FORMAT, ERROR_GENERIC, ERROR_MAC_INVALID, ERROR_NOT_SUPPORTED } from "./status";
import { wipe, equalCT } from "./bytes";
import * as host from "./host";

export const VERSION_A: u8 = 0x41;
export const VERSION_B: u8 = 0x42;
export const VERSION_C: u8 = 0x43;
export const VERSION_D: u8 = 0x44;
export const VERSION_E: u8 = 0x45;
export const MAX_KEY_BLOCK_LEN: i32 = 9999;

/** The result of a successful unwrap. */
export class Unwrapped {
  constructor(public header: Tr31Header, public headerBytes: Uint8Array, public key: Uint8Array) {}
}

function blockLenOf(v: u8): i32 { return v == VERSION_D || v == VERSION_E ? 16 : 8; }
function macLenOf(v: u8): i32 { return v == VERSION_A || v == VERSION_C ? 4 : v == VERSION_B ? 8 : 16; }
function needsAlignment(v: u8): bool { return v != VERSION_E; }

/** KBEK/KBAK of a version; null with BAD_PARAMETERS when the KBPK does not fit it. */
export function deriveKeys(version: u8, kbpk: Uint8Array): KeyPair | null {
  if (version == VERSION_A || version == VERSION_C) return kbpkVariant(kbpk);
  if (version == VERSION_B) return kbpkDeriveTdes(kbpk);
  if (version == VERSION_D) return kbpkDeriveAes(kbpk, false);
  if (version == VERSION_E) return kbpkDeriveAes(kbpk, true);
  return fail<KeyPair>(ERROR_NOT_SUPPORTED, "TR-31: unknown key block version");
}

/** The clear payload: key length in bits (2 bytes, big-endian) || key || padding. */
export function buildPayload(key: Uint8Array, padding: Uint8Array): Uint8Array {
  const p = new Uint8Array(2 + key.length + padding.length);
  const bits = key.length * 8;
  p[0] = <u8>(bits >> 8);
  p[1] = <u8>bits;
  p.set(key, 2);
  p.set(padding, 2 + key.length);
  return p;
}

/** "" when a key of this length fits the header's algorithm, else the reason. */
function keyLengthRule(algorithm: u8, len: i32): string {
  if (len <= 0) return "TR-31: key is empty";
  if (algorithm == 0x54 /* T */ && len != 8 && len != 16 && len != 24) return "TR-31: TDES key must be 8, 16 or 24 bytes";
  if (algorithm == 0x41 /* A */ && len != 16 && len != 24 && len != 32) return "TR-31: AES key must be 16, 24 or 32 bytes";
  if (algorithm == 0x44 /* D */ && len != 8) return "TR-31: DES key must be 8 bytes";
  return "";
}

/** Number of padding bytes wrap() draws for a key: to the masked length and the cipher block. */
export function paddingLength(version: u8, keyLen: i32, maskedKeyLen: i32): i32 {
  const bl = blockLenOf(version);
  const body = 2 + (maskedKeyLen > keyLen ? maskedKeyLen : keyLen);
  const total = needsAlignment(version) ? ((body + bl - 1) / bl) * bl : body;
  return total - 2 - keyLen;
}

const HEXU = "0123456789ABCDEF";
function hexInto(out: Uint8Array, off: i32, b: Uint8Array): void {
  for (let i = 0; i < b.length; i++) {
    out[off + 2 * i] = <u8>HEXU.charCodeAt(b[i] >> 4);
    out[off + 2 * i + 1] = <u8>HEXU.charCodeAt(b[i] & 15);
  }
}
function nibble(c: u8): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** CTR keystream XOR (AES, 128-bit big-endian counter) via one host ECB call. */
function aesCtr(key: Uint8Array, icb: Uint8Array, data: Uint8Array): Uint8Array | null {
  const blocks = (data.length + 15) / 16;
  const ctrs = new Uint8Array(blocks * 16);
  const c = icb.slice();
  for (let b = 0; b < blocks; b++) {
    ctrs.set(c, b * 16);
    for (let i = 15; i >= 0; i--) { c[i] += 1; if (c[i] != 0) break; }
  }
  const ks = encrypt(AES_ECB, key, ctrs);
  if (ks == null) return null;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ ks[i];
  wipe(ks);
  return out;
}

/** The authenticator over header || data (ciphertext for A/C, clear payload for B/D/E). */
function authenticator(version: u8, kbak: Uint8Array, header: Uint8Array, data: Uint8Array): Uint8Array | null {
  const m = new Uint8Array(header.length + data.length);
  m.set(header, 0);
  m.set(data, header.length);
  let t: Uint8Array | null;
  if (version == VERSION_A || version == VERSION_C) t = macAlg1(TDES_CBC, kbak, m, PAD_METHOD_1);
  else if (version == VERSION_B) t = cmac(TDES_ECB, kbak, m, 8);
  else t = cmac(AES_ECB, kbak, m, 16);
  if (version != VERSION_A && version != VERSION_C) wipe(m); // m holds the clear payload
  if (t == null) return null;
  const ml = macLenOf(version);
  if (t.length == ml) return t;
  const r = t.slice(0, ml);
  wipe(t);
  return r;
}

/** Wraps key under kbpk. header is the ASCII header (fixed part and optional blocks; its length
 * field is replaced). padding: the exact bytes after the key (null = random, paddingLength()
 * bytes); the payload must then be a multiple of the block (A-D) and hold maskedKeyLen bytes
 * of key field. Returns the ASCII key block. */
export function wrap(header: Uint8Array, kbpk: Uint8Array, key: Uint8Array, padding: Uint8Array | null, maskedKeyLen: i32): Uint8Array | null {
  const h = parseHeader(header);
  if (h == null) return null;
  if (h.encodedLength != header.length) return fail<Uint8Array>(ERROR_BAD_FORMAT, "TR-31 wrap: bytes after the last optional block");
  const v = h.version;
  const bl = blockLenOf(v);
  if (v == VERSION_D || v == VERSION_E ? !isAesKbpk(kbpk) : !isTdesKbpk(kbpk))
    return badParam<Uint8Array>("TR-31 wrap: KBPK length does not fit the key block version");
  if (needsAlignment(v) && header.length % bl != 0) return fail<Uint8Array>(ERROR_BAD_FORMAT, "TR-31 wrap: header is not a multiple of the cipher block (add a PB block)");
  const why = keyLengthRule(h.algorithm, key.length);
  if (why.length > 0) return badParam<Uint8Array>(why);
  if (maskedKeyLen < 0 || maskedKeyLen > 256) return badParam<Uint8Array>("TR-31 wrap: masked key length must be 0..256");
  let pad: Uint8Array;
  if (padding == null) {
    pad = new Uint8Array(paddingLength(v, key.length, maskedKeyLen));
    if (pad.length > 0) host.random(pad.dataStart, pad.length);
  } else {
    pad = padding;
    const n = 2 + key.length + pad.length;
    if (needsAlignment(v) && n % bl != 0) return badParam<Uint8Array>("TR-31 wrap: padding does not end the payload on a cipher block");
    if (key.length + pad.length < maskedKeyLen) return badParam<Uint8Array>("TR-31 wrap: padding shorter than the masked key length needs");
  }
  const payload = buildPayload(key, pad);
  if (padding == null) wipe(pad);
  const ml = macLenOf(v);
  const total = header.length + 2 * payload.length + 2 * ml;
  if (total > MAX_KEY_BLOCK_LEN) { wipe(payload); return badParam<Uint8Array>("TR-31 wrap: key block longer than 9999 characters"); }
  const hdr = header.slice();
  let t = total;
  for (let i = 4; i >= 1; i--) { hdr[i] = <u8>(0x30 + t % 10); t /= 10; }
  const keys = deriveKeys(v, kbpk);
  if (keys == null) { wipe(payload); return null; }
  let enc: Uint8Array | null = null;
  let mac: Uint8Array | null = null;
  if (v == VERSION_A || v == VERSION_C) {
    enc = encrypt(TDES_CBC, keys.kbek, payload, hdr.slice(0, 8));
    if (enc != null) mac = authenticator(v, keys.kbak, hdr, enc);
  } else {
    mac = authenticator(v, keys.kbak, hdr, payload);
    if (mac != null) {
      if (v == VERSION_B) enc = encrypt(TDES_CBC, keys.kbek, payload, mac);
      else if (v == VERSION_D) enc = encrypt(AES_CBC, keys.kbek, payload, mac);
      else enc = aesCtr(keys.kbek, mac, payload);
    }
  }
  keys.wipe();
  wipe(payload);
  if (enc == null || mac == null) return fail<Uint8Array>(ERROR_GENERIC, "TR-31 wrap: host cipher failed");
  const out = new Uint8Array(total);
  out.set(hdr, 0);
  hexInto(out, hdr.length, enc);
  hexInto(out, hdr.length + 2 * enc.length, mac);
  return out;
}

/** Wraps with a header built in code (the length field is filled in). */
export function wrapHeader(h: Tr31Header, kbpk: Uint8Array, key: Uint8Array, padding: Uint8Array | null, maskedKeyLen: i32): Uint8Array | null {
  return wrap(h.render(0), kbpk, key, padding, maskedKeyLen);
}

/** Unwraps an ASCII key block; see the file comment for the order of checks. */
export function unwrap(kb: Uint8Array, kbpk: Uint8Array): Unwrapped | null {
  const h = parseHeader(kb);
  if (h == null) return null;
  if (h.length != kb.length) return fail<Unwrapped>(ERROR_BAD_FORMAT, "TR-31 unwrap: length field does not match the key block");
  const v = h.version;
  const bl = blockLenOf(v);
  const ml = macLenOf(v);
  if (v == VERSION_D || v == VERSION_E ? !isAesKbpk(kbpk) : !isTdesKbpk(kbpk))
    return badParam<Unwrapped>("TR-31 unwrap: KBPK length does not fit the key block version");
  const hl = h.encodedLength;
  if (needsAlignment(v) && hl % bl != 0) return fail<Unwrapped>(ERROR_BAD_FORMAT, "TR-31 unwrap: header is not a multiple of the cipher block");
  const hexLen = kb.length - hl;
  if (hexLen % 2 != 0) return fail<Unwrapped>(ERROR_BAD_FORMAT, "TR-31 unwrap: odd number of hex characters");
  const n = hexLen / 2;
  const encLen = n - ml;
  if (encLen < 4 || (needsAlignment(v) && (encLen < bl || encLen % bl != 0)))
    return fail<Unwrapped>(ERROR_BAD_FORMAT, "TR-31 unwrap: encrypted payload length not valid for the version");
  const bin = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = nibble(kb[hl + 2 * i]);
    const b = nibble(kb[hl + 2 * i + 1]);
    if (a < 0 || b < 0) return fail<Unwrapped>(ERROR_BAD_FORMAT, "TR-31 unwrap: payload and MAC must be upper-case hex");
    bin[i] = <u8>((a << 4) | b);
  }
  const enc = bin.subarray(0, encLen);
  const mac = bin.slice(encLen);
  const hdr = kb.slice(0, hl);
  const keys = deriveKeys(v, kbpk);
  if (keys == null) return null;
  let plain: Uint8Array | null = null;
  if (v == VERSION_A || v == VERSION_C) {
    const t = authenticator(v, keys.kbak, hdr, enc);
    if (t == null) { keys.wipe(); return fail<Unwrapped>(ERROR_GENERIC, "TR-31 unwrap: host cipher failed"); }
    const ok = equalCT(t, mac);
    if (!ok) { keys.wipe(); return fail<Unwrapped>(ERROR_MAC_INVALID, "TR-31 unwrap: key block MAC does not verify"); }
    plain = decrypt(TDES_CBC, keys.kbek, enc, hdr.slice(0, 8));
    keys.wipe();
    if (plain == null) return fail<Unwrapped>(ERROR_GENERIC, "TR-31 unwrap: host cipher failed");
  } else {
    if (v == VERSION_B) plain = decrypt(TDES_CBC, keys.kbek, enc, mac);
    else if (v == VERSION_D) plain = decrypt(AES_CBC, keys.kbek, enc, mac);
    else plain = aesCtr(keys.kbek, mac, enc);
    if (plain == null) { keys.wipe(); return fail<Unwrapped>(ERROR_GENERIC, "TR-31 unwrap: host cipher failed"); }
    const t = authenticator(v, keys.kbak, hdr, plain);
    keys.wipe();
    if (t == null) { wipe(plain); return fail<Unwrapped>(ERROR_GENERIC, "TR-31 unwrap: host cipher failed"); }
    if (!equalCT(t, mac)) { wipe(plain); return fail<Unwrapped>(ERROR_MAC_INVALID, "TR-31 unwrap: key block MAC does not verify"); }
  }
  // Authenticated: now the payload may be read.
  const bits = (<i32>plain[0] << 8) | <i32>plain[1];
  const keyLen = bits >> 3;
  if ((bits & 7) != 0 || keyLen > plain.length - 2) { wipe(plain); return fail<Unwrapped>(ERROR_BAD_FORMAT, "TR-31 unwrap: key length field not valid"); }
  const why = keyLengthRule(h.algorithm, keyLen);
  if (why.length > 0) { wipe(plain); return fail<Unwrapped>(ERROR_BAD_FORMAT, why); }
  const key = plain.slice(2, 2 + keyLen);
  wipe(plain);
  return new Unwrapped(h, hdr, key);
}
