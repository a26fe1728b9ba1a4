// Random message objects for any protobufjs Type, biased toward edge values (0, ±1, extremes,
// non-ASCII text, empty bytes, unknown enum values, empty active oneof members, optional
// fields present with their default value).
import protobuf from 'protobufjs';
import Long from 'long';

export type Rng = () => number;

/** Deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
export { mulberry32 as rng } from '../helpers/mulberry32.ts';

const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)];
const u32 = (r: Rng) => Math.floor(r() * 4294967296) >>> 0;

const TEXT = ['', 'a', 'PIN', 'é', '€', '🔑', 'ключ', '漢字', 'x'.repeat(130), '\u0000', 'a\u00ffb'];

function text(r: Rng): string {
  if (r() < 0.6) return pick(r, TEXT);
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.5) s += String.fromCharCode(32 + Math.floor(r() * 95));
    else if (k < 0.8) s += String.fromCharCode(0xa0 + Math.floor(r() * 0xd000)); // BMP below surrogates
    else s += String.fromCodePoint(0x10000 + Math.floor(r() * 0xfffff));
  }
  return s;
}

function bytes(r: Rng): Uint8Array {
  const n = r() < 0.1 ? 128 + Math.floor(r() * 200) : Math.floor(r() * 24);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function long(r: Rng, unsigned: boolean): Long {
  const k = r();
  if (k < 0.15) return Long.fromInt(0, unsigned);
  if (k < 0.3) return Long.fromInt(pick(r, [1, -1, 127, 128, 300]), unsigned);
  if (k < 0.45) return pick(r, unsigned ? [Long.MAX_UNSIGNED_VALUE, Long.fromBits(0, 0x80000000, true)] : [Long.MAX_VALUE, Long.MIN_VALUE]);
  if (k < 0.7) return Long.fromBits(u32(r), 0, unsigned);
  return Long.fromBits(u32(r), u32(r), unsigned);
}

function scalar(r: Rng, type: string): unknown {
  switch (type) {
    case 'int32': case 'sint32': case 'sfixed32':
      return r() < 0.5 ? pick(r, [0, 1, -1, 2147483647, -2147483648, 64, -64]) : u32(r) | 0;
    case 'uint32': case 'fixed32':
      return r() < 0.5 ? pick(r, [0, 1, 127, 128, 16383, 16384, 4294967295]) : u32(r);
    case 'int64': case 'sint64': case 'sfixed64': return long(r, false);
    case 'uint64': case 'fixed64': return long(r, true);
    case 'bool': return r() < 0.5;
    case 'string': return text(r);
    case 'bytes': return bytes(r);
  }
  throw new Error(`no random value for ${type}`);
}

function value(r: Rng, f: protobuf.Field, depth: number): unknown {
  const t = f.resolvedType;
  if (t instanceof protobuf.Enum) {
    const vals = Object.values(t.values);
    return r() < 0.9 ? pick(r, vals) : pick(r, [99, -1, 12345]); // open enums keep unknown values
  }
  if (t instanceof protobuf.Type) return randomMessage(t, r, depth + 1);
  return scalar(r, f.type);
}

/** A plain object suitable for the static Type.encode(). */
export function randomMessage(type: protobuf.Type, r: Rng, depth = 0): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const deep = depth >= 3;
  for (const o of type.oneofsArray) {
    if (r() < 0.3) continue;
    const f = pick(r, o.fieldsArray);
    if (f.resolvedType instanceof protobuf.Type && deep) continue;
    // Active members are written even when empty or zero; make that common.
    m[f.name] = r() < 0.3 && !(f.resolvedType instanceof protobuf.Type) ? defaultOf(f) : value(r, f, depth);
  }
  for (const f of type.fieldsArray) {
    if (f.partOf) continue;
    f.resolve();
    const isMsg = f.resolvedType instanceof protobuf.Type;
    if (isMsg && deep) continue;
    if (r() < (isMsg ? 0.5 : 0.35)) continue;
    if (f.repeated) {
      const n = Math.floor(r() * (isMsg ? 3 : 6));
      m[f.name] = Array.from({ length: n }, () => value(r, f, depth));
    } else {
      m[f.name] = r() < 0.2 && !isMsg ? defaultOf(f) : value(r, f, depth);
    }
  }
  return m;
}

function defaultOf(f: protobuf.Field): unknown {
  if (f.resolvedType instanceof protobuf.Enum) return 0;
  switch (f.type) {
    case 'bool': return false;
    case 'string': return '';
    case 'bytes': return new Uint8Array(0);
    case 'int64': case 'sint64': case 'sfixed64': return Long.ZERO;
    case 'uint64': case 'fixed64': return Long.UZERO;
    default: return 0;
  }
}
