// Inputs for `npm run fuzz` (issue 17 §8): mutations of recorded real protobuf messages that keep
// or break their structure on purpose, plus random bytes. Seeded (mulberry32), so a run replays.
// Wire format: https://protobuf.dev/programming-guides/encoding/ — a message is a sequence of
// (tag varint, value) fields; wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
export { mulberry32 } from '../helpers/mulberry32.ts';

export type Rand = () => number;
export const int = (r: Rand, n: number) => Math.floor(r() * n);
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;
export const randomBytes = (r: Rand, n: number) => Uint8Array.from({ length: n }, () => int(r, 256));

interface Field { number: number; wire: number; start: number; end: number; valueStart: number }

function varint(b: Uint8Array, i: number): [number, number] | null {
  let v = 0, mul = 1;
  for (let k = 0; k < 10 && i < b.length; k++, i++) {
    v += (b[i]! & 0x7f) * mul;
    mul *= 128;
    if (!(b[i]! & 0x80)) return [v, i + 1];
  }
  return null;
}

function encodeVarint(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; out.push(b); } while (x);
  return out;
}

/** The top-level fields of a message, or null when it does not parse as one. */
export function fields(b: Uint8Array): Field[] | null {
  const out: Field[] = [];
  let i = 0;
  while (i < b.length) {
    const start = i;
    const t = varint(b, i);
    if (!t) return null;
    const [tag, j] = t;
    const wire = tag % 8, number = Math.floor(tag / 8);
    let end: number;
    if (wire === 0) { const v = varint(b, j); if (!v) return null; end = v[1]; }
    else if (wire === 1) end = j + 8;
    else if (wire === 5) end = j + 4;
    else if (wire === 2) { const l = varint(b, j); if (!l) return null; end = l[1] + l[0]; if (end > b.length) return null; out.push({ number, wire, start, end, valueStart: l[1] }); i = end; continue; }
    else return null;
    if (end > b.length) return null;
    out.push({ number, wire, start, end, valueStart: j });
    i = end;
  }
  return out;
}

const cat = (...parts: (Uint8Array | number[])[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

const EDGE_VARINTS: (number | bigint)[] = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 53, -1n, 2n ** 63n];

/** One structural mutation of one field; the rest of the message stays as recorded. */
function mutateField(r: Rand, b: Uint8Array, fs: Field[], depth: number): Uint8Array {
  const f = pick(r, fs);
  const before = b.subarray(0, f.start), field = b.subarray(f.start, f.end), after = b.subarray(f.end);
  const tag = b.subarray(f.start, f.valueStart - (f.wire === 2 ? encodeVarint(f.end - f.valueStart).length : 0));
  switch (int(r, 8)) {
    case 0: return cat(before, after); // drop it
    case 1: return cat(before, field, field, after); // repeat it (last one wins, or a repeated field grows)
    case 2: // another wire type under the same number
      return cat(before, encodeVarint(f.number * 8 + pick(r, [0, 1, 2, 5, 3, 7])), field.subarray(tag.length), after);
    case 3: // an edge value
      return cat(before, encodeVarint(f.number * 8), encodeVarint(pick(r, EDGE_VARINTS)), after);
    case 4: { // a length that lies
      if (f.wire !== 2) return cat(before, encodeVarint(f.number * 8 + 2), encodeVarint(pick(r, [0, 1, 0x7f, 0xffff, 0x7fffffff])), field.subarray(tag.length), after);
      const v = b.subarray(f.valueStart, f.end);
      return cat(before, tag, encodeVarint(Math.max(0, v.length + pick(r, [-1, 1, 1000, -v.length]))), v, after);
    }
    case 5: { // a length-delimited value: recurse into it as a message, or replace its bytes
      if (f.wire !== 2) return cat(before, tag, randomBytes(r, int(r, 12)), after);
      const v = b.subarray(f.valueStart, f.end);
      const inner = depth < 3 ? mutate(r, v, depth + 1) : randomBytes(r, int(r, 2 * v.length + 2));
      return cat(before, tag, encodeVarint(inner.length), inner, after);
    }
    case 6: { // an unknown field, big numbers first
      const n = pick(r, [f.number + 1, 15, 16, 2047, 536870911, 19000]);
      return cat(before, field, encodeVarint(n * 8 + 2), encodeVarint(3), randomBytes(r, 3), after);
    }
    default: // fields out of order
      return cat(field, before, after);
  }
}

/** Byte-level damage: flips, replacements with edge bytes, truncation, insertion. */
function mutateBytes(r: Rand, b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  const k = int(r, 5);
  if (k === 0 && out.length) { const i = int(r, out.length); out[i] = out[i]! ^ (1 << int(r, 8)); return out; }
  if (k === 1 && out.length) { out[int(r, out.length)] = pick(r, [0x00, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12]); return out; }
  if (k === 2) return out.subarray(0, int(r, out.length + 1));
  if (k === 3) { const i = int(r, out.length + 1); return cat(out.subarray(0, i), randomBytes(r, 1 + int(r, 16)), out.subarray(i)); }
  return cat(out, out.subarray(0, int(r, out.length + 1))); // a tail of repeated bytes
}

/** One to three mutations of a recorded message. */
export function mutate(r: Rand, seed: Uint8Array, depth = 0): Uint8Array {
  let b = seed;
  for (let n = 1 + int(r, 3); n > 0; n--) {
    const fs = fields(b);
    b = fs && fs.length && r() < 0.75 ? mutateField(r, b, fs, depth) : mutateBytes(r, b);
  }
  return b;
}

/** A random input: plain random bytes, or random well-formed fields (any numbers, any values). */
export function randomMessage(r: Rand): Uint8Array {
  if (r() < 0.4) return randomBytes(r, int(r, 64));
  const parts: number[][] = [];
  for (let n = int(r, 6); n > 0; n--) {
    const num = 1 + int(r, 20), wire = pick(r, [0, 2, 2, 1, 5]);
    const head = encodeVarint(num * 8 + wire);
    if (wire === 0) parts.push([...head, ...encodeVarint(pick(r, [...EDGE_VARINTS, int(r, 1000)]))]);
    else if (wire === 1) parts.push([...head, ...randomBytes(r, 8)]);
    else if (wire === 5) parts.push([...head, ...randomBytes(r, 4)]);
    else { const v = randomBytes(r, int(r, 40)); parts.push([...head, ...encodeVarint(v.length), ...v]); }
  }
  return Uint8Array.from(parts.flat());
}
