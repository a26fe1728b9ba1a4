// Table-driven Protocol Buffers (proto3) codec for AssemblyScript: one generic writer and one
// generic reader for every message, driven by the per-message field table that proto/gen-as.ts
// generates. It replaces per-message generated encode/decode code (most of a TA's size) and
// keeps its behaviour byte for byte: the rules are in proto/README.md ("Codec rules").
//
// A field table is static data (memory.data in the generated constructor, so a table and the
// types it names are in a module only when the message is constructed somewhere): its field
// count, then FIELD_WORDS u32 words per field, in field-number order:
//   [0] field number
//   [1] kind (bits 0-3) | flags (bits 4-7)
//   [2] byte offset of the field in the object (bits 0-15) | offset of its oneof case (i32) or
//       has-flag (bool) (bits 16-31)
//   [3] for a message field, the function that makes a new instance of its type; else 0
// Fields are read and written at their offsets (offsetof<T>() at generation), so the generated
// classes stay plain classes with typed properties. Stores of references go through __link,
// the incremental collector's write barrier, as a property assignment would (a no-op under the
// TAs' minimal runtime; the test harnesses and the back end's HSM build use incremental). No virtual
// methods: a virtual call would pull every message class of the program into every TA.
import { PbReader, PbWriter, setLastError, WIRE_VARINT, WIRE_FIXED64, WIRE_LEN, WIRE_FIXED32 } from "./pb";

export const FIELD_WORDS: i32 = 4;

// Field kinds (bits 0-3 of word 1). Enums are INT32.
export const K_INT32: u32 = 0;
export const K_UINT32: u32 = 1;
export const K_SINT32: u32 = 2;
export const K_INT64: u32 = 3;
export const K_UINT64: u32 = 4;
export const K_SINT64: u32 = 5;
export const K_FIXED32: u32 = 6;
export const K_SFIXED32: u32 = 7;
export const K_FIXED64: u32 = 8;
export const K_SFIXED64: u32 = 9;
export const K_BOOL: u32 = 10;
export const K_STRING: u32 = 11;
export const K_BYTES: u32 = 12;
export const K_MESSAGE: u32 = 13;

// Flags (bits 4-7 of word 1).
export const F_REPEATED: u32 = 0x10;
/** Repeated scalar written packed (decoding accepts both forms whatever the flag). */
export const F_PACKED: u32 = 0x20;
/** Member of a real oneof: the aux offset holds the i32 case. */
export const F_ONEOF: u32 = 0x40;
/** proto3 `optional`: the aux offset holds the bool has-flag. */
export const F_OPTIONAL: u32 = 0x80;

/** Wire type of a kind. */
function wireOf(kind: u32): u32 {
  if (kind >= K_STRING) return WIRE_LEN;
  if (kind == K_FIXED32 || kind == K_SFIXED32) return WIRE_FIXED32;
  if (kind == K_FIXED64 || kind == K_SFIXED64) return WIRE_FIXED64;
  return WIRE_VARINT;
}

/** Bytes a scalar of this kind takes in an object or an array (references: a pointer). */
function sizeOf(kind: u32): usize {
  if (kind == K_BOOL) return 1;
  if (kind == K_INT64 || kind == K_UINT64 || kind == K_SINT64 || kind == K_FIXED64 || kind == K_SFIXED64) return 8;
  return 4;
}

/**
 * Base of every generated message class. The generated class supplies its field table and,
 * when it has message fields, a factory for their types; encode/encodeTo/mergeFrom are here.
 */
export class PbMessage {
  /** The field table (see the top of this file), set by the generated constructor. */
  constructor(readonly pbTable: usize) {}

  encode(): Uint8Array {
    const w = new PbWriter();
    this.encodeTo(w);
    return w.finish();
  }

  /** Writes the fields in field-number order, skipping proto3 defaults (as protobufjs). */
  encodeTo(w: PbWriter): void {
    const t = this.pbTable + 4;
    const obj = changetype<usize>(this);
    for (let i: u32 = 0, n = load<u32>(this.pbTable); i < n; i++) {
      const e = t + <usize>i * FIELD_WORDS * 4;
      const id = load<u32>(e);
      const w1 = load<u32>(e, 4);
      const w2 = load<u32>(e, 8);
      const kind = w1 & 15;
      const p = obj + <usize>(w2 & 0xffff);
      const aux = obj + <usize>(w2 >>> 16);
      if (w1 & F_REPEATED) {
        const a = load<usize>(p);
        const len = changetype<Array<u8>>(a).length;
        if (len == 0) continue;
        const data = changetype<Array<u8>>(a).dataStart;
        const size = sizeOf(kind);
        if (w1 & F_PACKED) {
          w.tag(id, WIRE_LEN);
          const s = w.fork();
          for (let k = 0; k < len; k++) writeValue(w, kind, data + <usize>k * size);
          w.ldelim(s);
        } else {
          const wire = wireOf(kind);
          for (let k = 0; k < len; k++) {
            w.tag(id, wire);
            writeValue(w, kind, data + <usize>k * size);
          }
        }
        continue;
      }
      if (w1 & F_ONEOF) {
        if (load<i32>(aux) != <i32>id) continue; // the active member is written even when empty
      } else if ((w1 & F_OPTIONAL) != 0 && kind != K_MESSAGE) {
        if (!load<bool>(aux)) continue;
      } else if (kind == K_MESSAGE) {
        if (load<usize>(p) == 0) continue;
      } else if (isDefault(kind, p)) continue;
      w.tag(id, wireOf(kind));
      writeValue(w, kind, p);
    }
  }

  /** Merges the next len bytes of r into this message (protobuf merge semantics). */
  mergeFrom(r: PbReader, len: i32): bool {
    const saved = r.enter(len);
    if (saved < 0) return false;
    const t = this.pbTable + 4;
    const n = load<u32>(this.pbTable);
    const obj = changetype<usize>(this);
    const last = t + <usize>n * FIELD_WORDS * 4;
    let hint = t; // entry of the last field read: encoders write fields in number order
    while (r.more()) {
      const tag = r.tag();
      if (!r.ok()) break;
      const f = tag >>> 3, wt = tag & 7;
      // the field with number f, if any (the table is sorted by number)
      let e = hint < last && load<u32>(hint) <= f ? hint : t;
      while (e < last && load<u32>(e) < f) e += FIELD_WORDS * 4;
      if (e >= last || load<u32>(e) != f) {
        r.skip(wt); // unknown field
        continue;
      }
      hint = e;
      const w1 = load<u32>(e, 4);
      const w2 = load<u32>(e, 8);
      const kind = w1 & 15;
      const wire = wireOf(kind);
      const p = obj + <usize>(w2 & 0xffff);
      const aux = obj + <usize>(w2 >>> 16);
      if (w1 & F_REPEATED) {
        const a = load<usize>(p);
        if (kind == K_MESSAGE) {
          if (wt != WIRE_LEN) { r.skip(wt); continue; }
          const v = make(e);
          if (v.mergeFrom(r, r.length())) changetype<Array<PbMessage>>(a).push(v);
        } else if (wt == wire) {
          pushValue(r, kind, a);
        } else if (wt == WIRE_LEN) {
          // packed, accepted for every packable field whatever the declaration says
          const s = r.limit(r.length());
          while (r.more()) pushValue(r, kind, a);
          r.restore(s);
        } else r.skip(wt); // a known field with another wire type is skipped like an unknown one
        continue;
      }
      if (wt != wire) { r.skip(wt); continue; }
      if (kind == K_MESSAGE) {
        let v = load<usize>(p);
        if (v == 0 || ((w1 & F_ONEOF) != 0 && load<i32>(aux) != <i32>f)) {
          v = changetype<usize>(make(e));
          store<usize>(p, v);
          __link(obj, v, false);
        }
        if (w1 & F_ONEOF) store<i32>(aux, <i32>f);
        changetype<PbMessage>(v).mergeFrom(r, r.length());
        if (w1 & F_OPTIONAL) store<bool>(aux, true);
      } else {
        readValue(r, kind, obj, p);
        if (w1 & F_ONEOF) store<i32>(aux, <i32>f);
        if (w1 & F_OPTIONAL) store<bool>(aux, true);
      }
    }
    r.leave(saved);
    return r.ok();
  }
}

/** A new instance of the message type of the field at table entry e. */
function make(e: usize): PbMessage {
  return changetype<() => PbMessage>(load<u32>(e, 12))();
}

/** Decodes a whole buffer into m; null on malformed input (see lastDecodeError()). */
export function pbDecode(m: PbMessage, bytes: Uint8Array): usize {
  const r = new PbReader(bytes);
  const ok = m.mergeFrom(r, bytes.length);
  setLastError(r);
  return ok ? changetype<usize>(m) : 0;
}

/** Decodes the next len bytes of r into m; null on error (r.err, r.errPos say why). */
export function pbDecodeFrom(m: PbMessage, r: PbReader, len: i32): usize {
  return m.mergeFrom(r, len) ? changetype<usize>(m) : 0;
}

/** Whether the scalar at p is its proto3 default (0, false, "", empty bytes). */
function isDefault(kind: u32, p: usize): bool {
  if (kind == K_STRING) return changetype<string>(load<usize>(p)).length == 0;
  if (kind == K_BYTES) return changetype<Uint8Array>(load<usize>(p)).length == 0;
  const size = sizeOf(kind);
  if (size == 1) return load<u8>(p) == 0;
  if (size == 4) return load<u32>(p) == 0;
  return load<u64>(p) == 0;
}

/** Writes the value at p (no tag). */
function writeValue(w: PbWriter, kind: u32, p: usize): void {
  switch (kind) {
    case K_INT32: w.int32(load<i32>(p)); break;
    case K_UINT32: w.uint32(load<u32>(p)); break;
    case K_SINT32: w.sint32(load<i32>(p)); break;
    case K_INT64:
    case K_UINT64: w.uint64(load<u64>(p)); break;
    case K_SINT64: w.sint64(load<i64>(p)); break;
    case K_FIXED32:
    case K_SFIXED32: w.fixed32(load<u32>(p)); break;
    case K_FIXED64:
    case K_SFIXED64: w.fixed64(load<u64>(p)); break;
    case K_BOOL: w.bool(load<bool>(p)); break;
    case K_STRING: w.string(changetype<string>(load<usize>(p))); break;
    case K_BYTES: w.bytes(changetype<Uint8Array>(load<usize>(p))); break;
    default: { // K_MESSAGE
      const s = w.fork();
      const m = load<usize>(p);
      if (m != 0) changetype<PbMessage>(m).encodeTo(w);
      w.ldelim(s);
    }
  }
}

/** Reads one scalar of this kind as the 64 bits an object or array slot holds. */
function readBits(r: PbReader, kind: u32): u64 {
  switch (kind) {
    case K_SINT32: return <u64>r.sint32();
    case K_SINT64: return <u64>r.sint64();
    case K_FIXED32:
    case K_SFIXED32: return <u64>r.fixed32();
    case K_FIXED64:
    case K_SFIXED64: return r.fixed64();
    case K_BOOL: return r.bool() ? 1 : 0;
    default: return r.varint(); // int32, uint32, int64, uint64 (32-bit kinds keep the low bits)
  }
}

/** Reads a value of this kind into the field at p of obj (last one wins). */
function readValue(r: PbReader, kind: u32, obj: usize, p: usize): void {
  let ref: usize = 0;
  if (kind == K_STRING) ref = changetype<usize>(r.string());
  else if (kind == K_BYTES) ref = changetype<usize>(r.bytes());
  else {
    const v = readBits(r, kind);
    const size = sizeOf(kind);
    if (size == 1) store<u8>(p, <u8>v);
    else if (size == 4) store<u32>(p, <u32>v);
    else store<u64>(p, v);
    return;
  }
  store<usize>(p, ref);
  __link(obj, ref, false);
}

/** Appends one value of this kind to the array at a. */
function pushValue(r: PbReader, kind: u32, a: usize): void {
  if (kind == K_STRING) changetype<Array<string>>(a).push(r.string());
  else if (kind == K_BYTES) changetype<Array<Uint8Array>>(a).push(r.bytes());
  else {
    const v = readBits(r, kind);
    const size = sizeOf(kind);
    if (size == 1) changetype<Array<u8>>(a).push(<u8>v);
    else if (size == 4) changetype<Array<u32>>(a).push(<u32>v);
    else changetype<Array<u64>>(a).push(v);
  }
}
