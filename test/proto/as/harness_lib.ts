// AssemblyScript side of the protobuf codec tests. test/proto/harness.ts generates a small
// entry file (test/proto/.build/harness.ts) with one decode→encode function per message type
// and re-exports the functions below bound to it. All bytes pass through two static buffers.
import { PbReader, lastDecodeError, lastDecodeErrorPos } from "../../../proto/as/pb";

/** Decodes `input` as message type t and re-encodes it; null on a decode error. */
export type Codec = (t: i32, input: Uint8Array) => Uint8Array | null;

export const CAP: i32 = 1 << 20;
const IN = new Uint8Array(CAP);
const OUT = new Uint8Array(CAP);
/** Per-DecodeError counts of the last batch/fuzz call (index 0 = decoded fine). */
const STATS = new Uint32Array(16);
const SCRATCH = new Uint8Array(1 << 16);

export function io_in(): usize { return IN.dataStart; }
export function io_out(): usize { return OUT.dataStart; }
export function stats(): usize { return STATS.dataStart; }
export function err_pos(): i32 { return lastDecodeErrorPos(); }

function view(buf: Uint8Array, off: i32, len: i32): Uint8Array {
  return Uint8Array.wrap(buf.buffer, off, len);
}

/** IN[0..len) as type t → OUT; returns the output length or -DecodeError. */
export function roundtripWith(codec: Codec, t: i32, len: i32): i32 {
  const out = codec(t, view(IN, 0, len));
  if (out == null) return -(<i32>lastDecodeError());
  memory.copy(OUT.dataStart, out.dataStart, <usize>out.length);
  return out.length;
}

function same(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  return memory.compare(a.dataStart, b.dataStart, <usize>a.length) == 0;
}

/**
 * Decodes one input; on success checks that the re-encoding is a fixed point
 * (decode(encode(m)) encodes to the same bytes). Returns false if that property fails.
 */
function check(codec: Codec, t: i32, input: Uint8Array): bool {
  const e1 = codec(t, input);
  if (e1 == null) {
    const e = <i32>lastDecodeError();
    STATS[e]++;
    return e != 0; // null with no error would be a bug
  }
  STATS[0]++;
  const e2 = codec(t, e1);
  return e2 != null && same(e1, e2);
}

/**
 * IN holds count records [u32 length][bytes]. Decodes each as type t. Returns the number that
 * decoded, or -(index+1) of the first record that broke the fixed-point property.
 */
export function batchWith(codec: Codec, t: i32, count: i32): i32 {
  STATS.fill(0);
  let off = 0;
  for (let i = 0; i < count; i++) {
    const len = load<i32>(IN.dataStart + <usize>off);
    off += 4;
    if (!check(codec, t, view(IN, off, len))) return -(i + 1);
    off += len;
  }
  return <i32>STATS[0];
}

// xorshift32: a deterministic mutator, so a failure is reproducible from (seed, iteration).
let rng: u32 = 1;
function rnd(n: u32): u32 {
  let x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng = x;
  return n ? x % n : 0;
}

const INTERESTING: StaticArray<u8> = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x08, 0x0f, 0x0b];

/** Applies one random mutation to SCRATCH[0..len) and returns the new length. */
function mutate(len: i32, seeds: i32, seedCount: i32): i32 {
  const p = SCRATCH.dataStart;
  const cap = SCRATCH.length - 64;
  const at = <i32>rnd(<u32>len + 1); // position, may be len
  switch (rnd(10)) {
    case 0: { // flip a bit
      if (!len) break;
      const q = p + <usize>(at % len);
      store<u8>(q, <u8>(<u32>load<u8>(q) ^ (<u32>1 << rnd(8))));
      break;
    }
    case 1: if (len) store<u8>(p + <usize>(at % len), <u8>rnd(256)); break;
    case 2: if (len) store<u8>(p + <usize>(at % len), INTERESTING[rnd(INTERESTING.length)]); break;
    case 3: len = at; break; // truncate
    case 4: { // insert a byte
      if (len >= cap) break;
      memory.copy(p + <usize>at + 1, p + <usize>at, <usize>(len - at));
      store<u8>(p + <usize>at, <u8>rnd(256));
      len++;
      break;
    }
    case 5: { // delete a byte
      if (at >= len) break;
      memory.copy(p + <usize>at, p + <usize>at + 1, <usize>(len - at - 1));
      len--;
      break;
    }
    case 6: { // insert a tag with a random field/wire type and a small length or value
      if (len + 2 >= cap) break;
      memory.copy(p + <usize>at + 2, p + <usize>at, <usize>(len - at));
      store<u8>(p + <usize>at, <u8>((rnd(34) << 3) | rnd(8)));
      store<u8>(p + <usize>at + 1, <u8>rnd(12));
      len += 2;
      break;
    }
    case 7: { // run of 0xff (over-long varints, huge lengths)
      const n = <i32>rnd(12) + 1;
      if (len + n >= cap) break;
      memory.copy(p + <usize>(at + n), p + <usize>at, <usize>(len - at));
      memory.fill(p + <usize>at, 0xff, <usize>n);
      len += n;
      break;
    }
    case 8: { // duplicate a chunk at the end (repeated/merged fields)
      if (!len) break;
      const n = min(<i32>rnd(<u32>len) + 1, cap - len);
      memory.copy(p + <usize>len, p + <usize>at % <usize>len, <usize>min(n, len - at % len));
      len += min(n, len - at % len);
      break;
    }
    default: { // splice in a chunk of another seed
      let off = 0;
      const k = <i32>rnd(<u32>seedCount);
      for (let i = 0; i < k; i++) off += 4 + load<i32>(IN.dataStart + <usize>(seeds + off));
      const slen = load<i32>(IN.dataStart + <usize>(seeds + off));
      if (!slen) break;
      const from = <i32>rnd(<u32>slen);
      const n = min(min(<i32>rnd(<u32>(slen - from)) + 1, cap - len), len - at + 16);
      if (n <= 0 || at + n > cap) break;
      memory.copy(p + <usize>at, IN.dataStart + <usize>(seeds + off + 4 + from), <usize>n);
      len = max(len, at + n);
    }
  }
  return len;
}

/**
 * Fuzzes type t: `iterations` times picks one of the seedCount records in IN, applies 1–4
 * random mutations (or, every 8th time, makes 0–64 random bytes) and checks it. Returns the
 * number that decoded, or -(iteration+1) of the first that broke the fixed-point property.
 */
export function fuzzWith(codec: Codec, t: i32, seedCount: i32, iterations: i32, seed: u32): i32 {
  STATS.fill(0);
  rng = seed | 1;
  for (let it = 0; it < iterations; it++) {
    let len: i32;
    if ((it & 7) == 7) {
      len = <i32>rnd(65);
      for (let i = 0; i < len; i++) store<u8>(SCRATCH.dataStart + <usize>i, <u8>rnd(256));
    } else {
      let off = 0;
      const k = <i32>rnd(<u32>seedCount);
      for (let i = 0; i < k; i++) off += 4 + load<i32>(IN.dataStart + <usize>off);
      len = min(load<i32>(IN.dataStart + <usize>off), SCRATCH.length - 64);
      memory.copy(SCRATCH.dataStart, IN.dataStart + <usize>(off + 4), <usize>len);
      const n = <i32>rnd(4) + 1;
      for (let i = 0; i < n; i++) len = mutate(len, 0, seedCount);
    }
    if (!check(codec, t, view(SCRATCH, 0, len))) {
      // leave the failing input in OUT for the test to report
      memory.copy(OUT.dataStart + 4, SCRATCH.dataStart, <usize>len);
      store<i32>(OUT.dataStart, len);
      return -(it + 1);
    }
  }
  return <i32>STATS[0];
}

/** Reads one varint with a fresh reader (unit test of the runtime). */
export function read_varint(len: i32): u64 {
  const r = new PbReader(view(IN, 0, len));
  const v = r.varint();
  STATS[0] = <u32>r.err;
  STATS[1] = <u32>r.pos;
  return v;
}
