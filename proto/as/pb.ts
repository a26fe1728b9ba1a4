// Protocol Buffers wire runtime for AssemblyScript, used by the codec that proto/gen-as.ts
// generates. Two rules drive everything here:
//  - PbWriter produces exactly the bytes protobufjs produces (minimal varints, little-endian
//    fixed, length prefixes written after the body so they are minimal too);
//  - PbReader never reads outside [0, end) and never traps on bad input: the first error is
//    recorded as a DecodeError with its byte offset, every later read returns a default, and
//    the generated decode() returns null. A TA therefore answers malformed requests with an
//    error instead of dying, and never leaks adjacent memory.

/** Why a decode failed. Values are stable: they cross the TA boundary as negative numbers. */
export enum DecodeError {
  NONE = 0,
  /** Input ended inside a value (varint, fixed, length-delimited body). */
  TRUNCATED = 1,
  /** A varint with more than 10 bytes. */
  VARINT_TOO_LONG = 2,
  /** Wire type 3/4 (groups, not used in proto3) or 6/7 (undefined). */
  BAD_WIRE_TYPE = 3,
  /** A length prefix beyond the enclosing message, packed field or buffer. */
  LENGTH_OUT_OF_RANGE = 4,
  /** A string field that is not well-formed UTF-8 (protobufjs rejects these in proto3 too). */
  INVALID_UTF8 = 5,
  /** Messages nested deeper than MAX_DEPTH. */
  NESTING_TOO_DEEP = 6,
  /** Field number 0, or a tag longer than 5 bytes or wider than 32 bits. */
  BAD_FIELD_NUMBER = 7,
}

/** Deepest message nesting accepted (the top-level message is depth 1). Bounds stack use. */
export const MAX_DEPTH: i32 = 32;

export const WIRE_VARINT: u32 = 0;
export const WIRE_FIXED64: u32 = 1;
export const WIRE_LEN: u32 = 2;
export const WIRE_FIXED32: u32 = 5;

export class PbWriter {
  private buf: Uint8Array;
  /** Bytes written so far. */
  pos: i32 = 0;

  constructor(capacity: i32 = 64) {
    this.buf = new Uint8Array(max(capacity, 16));
  }

  /** Makes room for n more bytes, doubling so appends stay amortised O(1). */
  private ensure(n: i32): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length << 1;
    while (cap < need) cap <<= 1;
    const next = new Uint8Array(cap);
    memory.copy(next.dataStart, this.buf.dataStart, <usize>this.pos);
    this.buf = next;
  }

  @inline private put(b: u32): void {
    store<u8>(this.buf.dataStart + <usize>this.pos, <u8>b);
    this.pos++;
  }

  varint32(v: u32): void {
    this.ensure(5);
    while (v >= 0x80) {
      this.put((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.put(v);
  }

  varint64(v: u64): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.put(<u32>(v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.put(<u32>v);
  }

  tag(field: u32, wire: u32): void { this.varint32((field << 3) | wire); }

  /** int32 and enums: negatives are sign-extended to 64 bits (10 bytes), as protobufjs does. */
  int32(v: i32): void {
    if (v < 0) this.varint64(<u64><i64>v);
    else this.varint32(<u32>v);
  }
  uint32(v: u32): void { this.varint32(v); }
  sint32(v: i32): void { this.varint32(<u32>((v << 1) ^ (v >> 31))); }
  int64(v: i64): void { this.varint64(<u64>v); }
  uint64(v: u64): void { this.varint64(v); }
  sint64(v: i64): void { this.varint64(<u64>((v << 1) ^ (v >> 63))); }
  bool(v: bool): void { this.varint32(v ? 1 : 0); }

  fixed32(v: u32): void {
    this.ensure(4);
    store<u32>(this.buf.dataStart + <usize>this.pos, v); // wasm is little-endian, as is protobuf
    this.pos += 4;
  }
  sfixed32(v: i32): void { this.fixed32(<u32>v); }
  fixed64(v: u64): void {
    this.ensure(8);
    store<u64>(this.buf.dataStart + <usize>this.pos, v);
    this.pos += 8;
  }
  sfixed64(v: i64): void { this.fixed64(<u64>v); }

  /** Length-prefixed raw bytes. */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.varint32(<u32>n);
    this.ensure(n);
    memory.copy(this.buf.dataStart + <usize>this.pos, b.dataStart, <usize>n);
    this.pos += n;
  }

  /** Length-prefixed UTF-8 (lone surrogates become 3-byte sequences, like protobufjs). */
  string(s: string): void {
    const n = String.UTF8.byteLength(s);
    this.varint32(<u32>n);
    this.ensure(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.buf.dataStart + <usize>this.pos);
    this.pos += n;
  }

  /** Starts a length-delimited body; pass the result to ldelim() when the body is written. */
  fork(): i32 { return this.pos; }

  /**
   * Ends a body started at `start`: moves it right by the size of its length varint and
   * writes the length in front. Costs one copy per nesting level, but keeps the writer
   * single-pass and the prefix minimal (what protobufjs writes).
   */
  ldelim(start: i32): void {
    const len = this.pos - start;
    let n = 1;
    for (let v = <u32>len; v >= 0x80; v >>>= 7) n++;
    this.ensure(n);
    const base = this.buf.dataStart;
    memory.copy(base + <usize>(start + n), base + <usize>start, <usize>len);
    const end = this.pos + n;
    this.pos = start;
    this.varint32(<u32>len);
    this.pos = end;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array { return this.buf.slice(0, this.pos); }

  /** Start of the written bytes in linear memory (valid until the next write). */
  get dataStart(): usize { return this.buf.dataStart; }

  reset(): void { this.pos = 0; }
}

export class PbReader {
  buf: Uint8Array;
  pos: i32 = 0;
  /** Current limit: the end of the innermost message or packed field being read. */
  end: i32;
  err: DecodeError = DecodeError.NONE;
  /** Offset at which err was detected. */
  errPos: i32 = 0;
  depth: i32 = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.end = buf.length;
  }

  @inline ok(): bool { return this.err == DecodeError.NONE; }
  /** True while there is input left in the current limit and no error. */
  @inline more(): bool { return this.err == DecodeError.NONE && this.pos < this.end; }

  /** Records the first error and jumps to the limit so every loop stops. */
  fail(e: DecodeError): void {
    if (this.err == DecodeError.NONE) {
      this.err = e;
      this.errPos = this.pos;
    }
    this.pos = this.end;
  }

  /** Checks that n bytes remain; on failure records TRUNCATED. */
  @inline private need(n: i32): bool {
    if (this.end - this.pos >= n) return true;
    this.fail(DecodeError.TRUNCATED);
    return false;
  }

  /** Up to 10 bytes; bits beyond 64 are dropped, as protobufjs and protoc do. */
  varint(): u64 {
    let v: u64 = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) {
        this.fail(DecodeError.TRUNCATED);
        return 0;
      }
      const b = <u64>load<u8>(this.buf.dataStart + <usize>this.pos);
      this.pos++;
      v |= (b & 0x7f) << <u64>(7 * i);
      if (b < 0x80) return v;
    }
    this.fail(DecodeError.VARINT_TOO_LONG);
    return 0;
  }

  /** A tag (field number << 3 | wire type): a varint of at most 5 bytes whose value fits in 32
   * bits, and field 0 is an error. protobufjs's Reader.tag has the same rule; reading tags as
   * 10-byte varints would accept overlong encodings (0x88 0x80 … 0x00 for field 1) that the
   * REE's and the back end's decoders refuse, so the TA and they would not read the same bytes. */
  tag(): u32 {
    let t: u32 = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) {
        this.fail(DecodeError.TRUNCATED);
        return 0;
      }
      const b = <u32>load<u8>(this.buf.dataStart + <usize>this.pos);
      this.pos++;
      if (i == 4 && (b & 0xf0) != 0) break; // a 6th byte, or bits above 32
      t |= (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        if ((t >>> 3) == 0) break;
        return t;
      }
    }
    this.fail(DecodeError.BAD_FIELD_NUMBER);
    return 0;
  }

  // 32-bit varint types read 64 bits and truncate, so negative int32 written as 10 bytes
  // and non-canonical encodings decode like protobufjs.
  int32(): i32 { return <i32>this.varint(); }
  uint32(): u32 { return <u32>this.varint(); }
  sint32(): i32 {
    const n = <u32>this.varint();
    return <i32>((n >>> 1) ^ (0 - (n & 1)));
  }
  int64(): i64 { return <i64>this.varint(); }
  uint64(): u64 { return this.varint(); }
  sint64(): i64 {
    const n = this.varint();
    return <i64>((n >>> 1) ^ (0 - (n & 1)));
  }
  bool(): bool { return this.varint() != 0; }

  fixed32(): u32 {
    if (!this.need(4)) return 0;
    const v = load<u32>(this.buf.dataStart + <usize>this.pos);
    this.pos += 4;
    return v;
  }
  sfixed32(): i32 { return <i32>this.fixed32(); }
  fixed64(): u64 {
    if (!this.need(8)) return 0;
    const v = load<u64>(this.buf.dataStart + <usize>this.pos);
    this.pos += 8;
    return v;
  }
  sfixed64(): i64 { return <i64>this.fixed64(); }

  /** A length prefix, checked against the current limit; -1 after an error. */
  length(): i32 {
    const n = this.varint();
    if (this.err != DecodeError.NONE) return -1;
    if (n > <u64>(this.end - this.pos)) {
      this.fail(DecodeError.LENGTH_OUT_OF_RANGE);
      return -1;
    }
    return <i32>n;
  }

  /** Length-prefixed bytes, copied out of the input. */
  bytes(): Uint8Array {
    const n = this.length();
    if (n < 0) return new Uint8Array(0);
    const v = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Length-prefixed UTF-8, validated strictly (no overlongs, surrogates or > U+10FFFF). */
  string(): string {
    const n = this.length();
    if (n < 0) return "";
    const p = this.buf.dataStart + <usize>this.pos;
    if (!validUtf8(p, n)) {
      this.fail(DecodeError.INVALID_UTF8);
      return "";
    }
    this.pos += n;
    return String.UTF8.decodeUnsafe(p, <usize>n);
  }

  /** Skips one value of an unknown field (or a known field sent with another wire type). */
  skip(wire: u32): void {
    switch (wire) {
      case WIRE_VARINT: this.varint(); break;
      case WIRE_FIXED64: if (this.need(8)) this.pos += 8; break;
      case WIRE_LEN: { const n = this.length(); if (n > 0) this.pos += n; break; }
      case WIRE_FIXED32: if (this.need(4)) this.pos += 4; break;
      default: this.fail(DecodeError.BAD_WIRE_TYPE); // groups (3, 4) and 6, 7
    }
  }

  /**
   * Narrows the limit to the next len bytes (len came from length(), so it fits) and returns
   * the previous limit for restore(), or -1 after an error.
   */
  limit(len: i32): i32 {
    if (this.err != DecodeError.NONE || len < 0) return -1;
    const saved = this.end;
    this.end = this.pos + len;
    return saved;
  }

  restore(saved: i32): void {
    if (saved >= 0) this.end = saved;
  }

  /** limit() for an embedded message, counting depth; pair with leave(). */
  enter(len: i32): i32 {
    if (this.err != DecodeError.NONE) return -1;
    if (this.depth >= MAX_DEPTH) {
      this.fail(DecodeError.NESTING_TOO_DEEP);
      return -1;
    }
    const saved = this.limit(len);
    if (saved >= 0) this.depth++;
    return saved;
  }

  leave(saved: i32): void {
    if (saved < 0) return;
    this.depth--;
    this.end = saved;
  }
}

/** Error of the last failed top-level decode() (the generated decode(bytes) sets these). */
let lastError: DecodeError = DecodeError.NONE;
let lastErrorPos: i32 = 0;

export function setLastError(r: PbReader): void {
  lastError = r.err;
  lastErrorPos = r.errPos;
}
export function lastDecodeError(): DecodeError { return lastError; }
export function lastDecodeErrorPos(): i32 { return lastErrorPos; }

/** Strict UTF-8 check (the WHATWG decoder's "fatal" rules that protobufjs uses). */
export function validUtf8(p: usize, n: i32): bool {
  const end = p + <usize>n;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c < 0x80) { p++; continue; }
    let need: i32;
    let lo: u32 = 0x80, hi: u32 = 0xbf; // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c == 0xe0) lo = 0xa0;      // overlong
      else if (c == 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c == 0xf0) lo = 0x90;      // overlong
      else if (c == 0xf4) hi = 0x8f; // > U+10FFFF
    } else return false;
    if (<usize>need >= end - p) return false; // sequence runs past the end
    const c1 = <u32>load<u8>(p + 1);
    if (c1 < lo || c1 > hi) return false;
    for (let i = 2; i <= need; i++) {
      const cx = <u32>load<u8>(p + <usize>i);
      if ((cx & 0xc0) != 0x80) return false;
    }
    p += <usize>(need + 1);
  }
  return true;
}
