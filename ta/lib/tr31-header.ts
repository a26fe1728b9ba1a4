// TR-31 / ANSI X9.143:2022 §6 and ISO 20038:2017 key block header: 16 fixed ASCII bytes
//   [0] version ID  A B C D E        [1..5] key block length, 4 decimal digits
//   [5..7] key usage (B0, D0, K0, P0, M3, ...)   [7] algorithm (A D E H R S T)
//   [8] mode of use (B C D E G N S T V X Y)       [9..11] key version number
//   [11] exportability (E N S)        [12..14] number of optional blocks, 2 decimal digits
//   [14..16] reserved ("00")
// then the optional blocks, each: ID (2 chars) || length (2 upper-case hex chars counting the
// whole block; "00" means extended: 2 hex chars giving the length of the length, then that many
// hex chars) || data (printable ASCII). Every block is parsed generically; the ones this module
// knows are validated: KS, IK, KC, KP, HM, BI, WP, LB, PB (padding: must come last).
// Parsing never traps: it answers null with ERROR_BAD_FORMAT and the field it rejected.
import { fail } from "./error";
import { ERROR_BAD_FORMAT } from "./status";

export const HEADER_FIXED_LEN: i32 = 16;

export class OptionalBlock {
  constructor(public id: string, public data: string) {}
}

export class Tr31Header {
  version: u8 = 0x44; // 'D'
  length: i32 = 0;
  keyUsage: string = "00";
  algorithm: u8 = 0x41;
  modeOfUse: u8 = 0x4e;
  keyVersion: string = "00";
  exportability: u8 = 0x4e;
  reserved: string = "00";
  blocks: Array<OptionalBlock> = new Array<OptionalBlock>();
  /** Bytes the header occupied when parsed (fixed part + optional blocks). */
  encodedLength: i32 = 0;

  /** The optional block with the given ID, or null. */
  block(id: string): OptionalBlock | null {
    for (let i = 0; i < this.blocks.length; i++) if (this.blocks[i].id == id) return this.blocks[i];
    return null;
  }

  /** Appends an optional block (no validation here; render() then parse() validates). */
  addBlock(id: string, data: string): void {
    this.blocks.push(new OptionalBlock(id, data));
  }

  /** Adds or resizes a trailing PB block so the header is a multiple of blockLen (8 or 16). */
  alignTo(blockLen: i32): void {
    let n = this.blocks.length;
    if (n > 0 && this.blocks[n - 1].id == "PB") { this.blocks.pop(); n--; }
    let len = this.renderedLength();
    if (len % blockLen == 0) return;
    let padLen = blockLen - (len % blockLen);
    if (padLen < 4) padLen += blockLen; // a PB block is at least ID + length
    this.addBlock("PB", "0".repeat(padLen - 4));
  }

  /** Length in bytes of the rendered header. */
  renderedLength(): i32 {
    let n = HEADER_FIXED_LEN;
    for (let i = 0; i < this.blocks.length; i++) n += blockEncodedLength(this.blocks[i].data.length);
    return n;
  }

  /** ASCII bytes of the header with the given total key block length in the length field. */
  render(totalLength: i32): Uint8Array {
    let s = String.fromCharCode(this.version) + pad4(totalLength) + this.keyUsage +
      String.fromCharCode(this.algorithm) + String.fromCharCode(this.modeOfUse) + this.keyVersion +
      String.fromCharCode(this.exportability) + pad2(this.blocks.length) + this.reserved;
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i];
      const l = blockEncodedLength(b.data.length);
      s += b.id + (l <= 255 ? hex2(l) : "0004" + hexN(l, 4)) + b.data;
    }
    return Uint8Array.wrap(String.UTF8.encode(s));
  }
}

function blockEncodedLength(dataLen: i32): i32 {
  return dataLen + 4 <= 255 ? dataLen + 4 : dataLen + 10;
}

const HEX = "0123456789ABCDEF";
function hex2(v: i32): string {
  return HEX.charAt((v >> 4) & 15) + HEX.charAt(v & 15);
}
function hexN(v: i32, n: i32): string {
  let s = "";
  for (let i = n - 1; i >= 0; i--) s += HEX.charAt((v >> (i * 4)) & 15);
  return s;
}
function pad4(v: i32): string {
  let s = v.toString();
  while (s.length < 4) s = "0" + s;
  return s;
}
function pad2(v: i32): string {
  return v < 10 ? "0" + v.toString() : v.toString();
}

function isDigit(c: u8): bool { return c >= 0x30 && c <= 0x39; }
function isUpperHex(c: u8): bool { return isDigit(c) || (c >= 0x41 && c <= 0x46); }
function isAlnum(c: u8): bool { return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a); }
function isPrintable(c: u8): bool { return c >= 0x20 && c <= 0x7e; }

function hexValue(c: u8): i32 { return c <= 0x39 ? c - 0x30 : c - 0x41 + 10; }

function decimal(b: Uint8Array, off: i32, n: i32): i32 {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = b[off + i];
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

function hexNumber(b: Uint8Array, off: i32, n: i32): i32 {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = b[off + i];
    if (!isUpperHex(c)) return -1;
    v = (v << 4) | hexValue(c);
  }
  return v;
}

function ascii(b: Uint8Array, off: i32, n: i32): string {
  return String.UTF8.decodeUnsafe(b.dataStart + <usize>off, <usize>n);
}

function bad(reason: string): Tr31Header | null {
  return fail<Tr31Header>(ERROR_BAD_FORMAT, reason);
}

/** Parses a header at the start of kb (the whole key block, or a header alone when the length
 * field is not to be checked against it). */
export function parseHeader(kb: Uint8Array): Tr31Header | null {
  if (kb.length < HEADER_FIXED_LEN) return bad("TR-31 header: shorter than 16 bytes");
  for (let i = 0; i < HEADER_FIXED_LEN; i++) if (!isPrintable(kb[i])) return bad("TR-31 header: non-printable character");
  const h = new Tr31Header();
  h.version = kb[0];
  if (h.version < 0x41 || h.version > 0x45) return bad("TR-31 header: version ID must be A, B, C, D or E");
  h.length = decimal(kb, 1, 4);
  if (h.length < 0) return bad("TR-31 header: key block length must be 4 decimal digits");
  if (!isAlnum(kb[5]) || !isAlnum(kb[6])) return bad("TR-31 header: key usage must be 2 alphanumeric characters");
  h.keyUsage = ascii(kb, 5, 2);
  if (!isAlnum(kb[7])) return bad("TR-31 header: algorithm must be alphanumeric");
  h.algorithm = kb[7];
  if (!isAlnum(kb[8])) return bad("TR-31 header: mode of use must be alphanumeric");
  h.modeOfUse = kb[8];
  if (!isAlnum(kb[9]) || !isAlnum(kb[10])) return bad("TR-31 header: key version number must be 2 alphanumeric characters");
  h.keyVersion = ascii(kb, 9, 2);
  h.exportability = kb[11];
  if (h.exportability != 0x45 && h.exportability != 0x4e && h.exportability != 0x53) return bad("TR-31 header: exportability must be E, N or S");
  const count = decimal(kb, 12, 2);
  if (count < 0) return bad("TR-31 header: number of optional blocks must be 2 decimal digits");
  if (!isAlnum(kb[14]) || !isAlnum(kb[15])) return bad("TR-31 header: reserved field must be 2 alphanumeric characters");
  h.reserved = ascii(kb, 14, 2);
  let off = HEADER_FIXED_LEN;
  for (let i = 0; i < count; i++) {
    if (off + 4 > kb.length) return bad("TR-31 optional block: truncated");
    if (!isAlnum(kb[off]) || !isAlnum(kb[off + 1])) return bad("TR-31 optional block: ID must be 2 alphanumeric characters");
    const id = ascii(kb, off, 2);
    let len = hexNumber(kb, off + 2, 2);
    if (len < 0) return bad("TR-31 optional block: length must be 2 upper-case hex characters");
    let dataOff = off + 4;
    if (len == 0) {
      // Extended length: length of the length, then the length itself.
      if (off + 6 > kb.length) return bad("TR-31 optional block: truncated extended length");
      const ll = hexNumber(kb, off + 4, 2);
      if (ll <= 0 || ll > 4) return bad("TR-31 optional block: extended length-of-length must be 1..4");
      if (off + 6 + ll > kb.length) return bad("TR-31 optional block: truncated extended length");
      len = hexNumber(kb, off + 6, ll);
      if (len < 0) return bad("TR-31 optional block: extended length must be upper-case hex");
      dataOff = off + 6 + ll;
    }
    if (len < dataOff - off || off + len > kb.length) return bad("TR-31 optional block: length out of range");
    for (let j = dataOff; j < off + len; j++) if (!isPrintable(kb[j])) return bad("TR-31 optional block: data must be printable ASCII");
    const data = ascii(kb, dataOff, off + len - dataOff);
    for (let j = 0; j < h.blocks.length; j++) if (h.blocks[j].id == id) return bad("TR-31 optional block: ID appears twice");
    const why = validateKnownBlock(id, data, i == count - 1);
    if (why.length > 0) return bad(why);
    h.blocks.push(new OptionalBlock(id, data));
    off += len;
  }
  h.encodedLength = off;
  return h;
}

function allHex(s: string): bool {
  for (let i = 0; i < s.length; i++) if (!isUpperHex(<u8>s.charCodeAt(i))) return false;
  return true;
}

/** "" when the block is acceptable, else the reason. Unknown and numeric (proprietary) IDs pass. */
function validateKnownBlock(id: string, d: string, isLast: bool): string {
  if (id == "KS") {
    if (d.length < 16 || d.length > 24 || !allHex(d)) return "TR-31 KS block: key set identifier must be 16..24 upper-case hex characters";
  } else if (id == "IK") {
    if (d.length != 16 || !allHex(d)) return "TR-31 IK block: initial key identifier must be 16 upper-case hex characters";
  } else if (id == "KC" || id == "KP") {
    if (d.length < 4 || !allHex(d) || d.length % 2 != 0) return "TR-31 " + id + " block: check value must be 2 hex digits of algorithm then hex";
    const a = d.substring(0, 2);
    if (a != "00" && a != "01") return "TR-31 " + id + " block: KCV algorithm must be 00 (legacy) or 01 (CMAC)";
  } else if (id == "HM") {
    if (d.length != 2 || !allHex(d)) return "TR-31 HM block: hash algorithm must be 2 hex characters";
  } else if (id == "BI") {
    const ok = (d.length == 12 && d.substring(0, 2) == "00") || (d.length == 10 && d.substring(0, 2) == "01");
    if (!ok || !allHex(d)) return "TR-31 BI block: must be 00 + 10 hex (KSI) or 01 + 8 hex (BDK ID)";
  } else if (id == "WP") {
    if (d.length != 3 || d.substring(0, 2) != "00" || d.charCodeAt(2) < 0x30 || d.charCodeAt(2) > 0x33) return "TR-31 WP block: must be 00 and a wrapping pedigree 0..3";
  } else if (id == "LB") {
    if (d.length > 16) return "TR-31 LB block: label longer than 16 characters";
  } else if (id == "PB") {
    if (!isLast) return "TR-31 PB block: padding block must be the last optional block";
  }
  return "";
}
