// Corrupted card answers for the kernel's property tests (issue 17 §5): a seeded generator
// (reproducible: the seed and the run number name every input) that takes a real recorded tap
// and damages one or more of its responses the ways cards, relays and attackers do — flipped
// and replaced bytes, truncation, extension, BER-only length forms (0x80 indefinite, long forms
// of 5+ bytes), objects whose values change length or content (reserved CIDs, out-of-range
// dates, oversized exponents, certificates that do not fit their keys), swapped status words.
import { fromHex, toHex } from '../../common/hex.ts';
import { decodeTlv, type Tlv } from '../../common/tlv.ts';
import type { Exchange } from '../../ree/nfc/replay.ts';

/** Seeded (mulberry32): the seed makes a run reproducible. */
export { mulberry32 as prng } from '../helpers/mulberry32.ts';

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;
const bytes = (r: Rand, n: number) => Uint8Array.from({ length: n }, () => int(r, 256));

/** Values that break parsers: length boundaries, BER length forms, sign bits, reserved codes. */
const INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x88, 0xbc, 0xc0, 0xdf, 0xff, 0x6a, 0x9f];

/** Every primitive and constructed object of a response, for structured mutations. */
function objects(data: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  const walk = (ns: Tlv[]) => { for (const n of ns) { out.push(n); if (n.children) walk(n.children); } };
  try { walk(decodeTlv(data)); } catch { /* an already damaged response has no structure left */ }
  return out;
}

/** Replace one object's value (and its length field) with `value`; the enclosing templates'
 *  lengths follow when their length form allows, else they disagree (one more corruption). */
function replaceValue(data: Uint8Array, n: Tlv, value: Uint8Array): Uint8Array {
  const valueStart = n.value.byteOffset - data.byteOffset;
  const tagAndLen = data.subarray(n.offset, valueStart);
  const tagLen = tagAndLen.length - lengthFieldSize(tagAndLen);
  const len = value.length < 0x80 ? Uint8Array.of(value.length) : value.length < 0x100 ? Uint8Array.of(0x81, value.length) : Uint8Array.of(0x82, value.length >> 8, value.length & 0xff);
  const head = data.subarray(0, n.offset);
  const tail = data.subarray(valueStart + n.value.length);
  const out = new Uint8Array(head.length + tagLen + len.length + value.length + tail.length);
  let o = 0;
  for (const part of [head, tagAndLen.subarray(0, tagLen), len, value, tail]) { out.set(part, o); o += part.length; }
  return fixParents(out, data, n, out.length - data.length);
}

function lengthFieldSize(tagAndLen: Uint8Array): number {
  // The length field is the last 1 + k bytes, where the first of them is 0x8k (or < 0x80).
  for (let k = 0; k <= 4; k++) {
    const i = tagAndLen.length - 1 - k;
    if (i < 1) break;
    const b = tagAndLen[i]!;
    if (k === 0 && b < 0x80) return 1;
    if (k > 0 && b === (0x80 | k)) return k + 1;
  }
  return 1;
}

/** Grow or shrink the length fields of the templates around the replaced object (one-byte and
 *  0x81 forms, which is what the captures use), so that the change stays inside valid TLV. */
function fixParents(out: Uint8Array, original: Uint8Array, target: Tlv, delta: number): Uint8Array {
  if (delta === 0) return out;
  const parents: Tlv[] = [];
  let roots: Tlv[];
  try { roots = decodeTlv(original); } catch { return out; }
  // decodeTlv gives new objects: find the target again by offset and tag.
  const same = (a: Tlv) => a.offset === target.offset && a.tag === target.tag;
  const findByPos = (ns: Tlv[]): boolean => {
    for (const n of ns) {
      if (same(n)) return true;
      if (n.children && findByPos(n.children)) { parents.push(n); return true; }
    }
    return false;
  };
  if (!findByPos(roots)) return out;
  // Innermost parent first; only lengths that keep their form size are patched (else leave broken).
  for (const p of parents) {
    const lenAt = p.offset + p.tag.length / 2;
    const b = out[lenAt]!;
    const newLen = p.value.length + delta;
    if (b < 0x80 && newLen >= 0 && newLen < 0x80) out[lenAt] = newLen;
    else if (b === 0x81 && newLen >= 0x80 && newLen < 0x100) out[lenAt + 1] = newLen;
  }
  return out;
}

/** Structured values for the objects the kernels decide on. */
function valueFor(r: Rand, tag: string, old: Uint8Array): Uint8Array {
  switch (tag) {
    case '9F27': return pick(r, [Uint8Array.of(0xc0), Uint8Array.of(0xc8), Uint8Array.of(0x40), Uint8Array.of(0x00), Uint8Array.of(0x80, 0x00), new Uint8Array(0)]);
    case '5F24': case '5F25': return pick(r, [fromHex('991399'), fromHex('250100'), fromHex('2512'), fromHex('AABBCC'), fromHex('000000')]);
    case '9F32': case '9F47': return pick(r, [fromHex('02'), fromHex('00'), new Uint8Array(0), bytes(r, 1 + int(r, 200)), fromHex('0100000001')]);
    case '8F': return pick(r, [fromHex('FF'), fromHex('0000'), new Uint8Array(0)]);
    case '57': return pick(r, [fromHex('4761739001010119D30130'), fromHex('0D'), fromHex('4761739001010119D25130'), bytes(r, int(r, 20))]);
    case '5A': return pick(r, [fromHex('4761ABCD'), fromHex('FFFFFFFFFFFF'), bytes(r, 1 + int(r, 12))]);
    case '94': return pick(r, [fromHex('08000101'), fromHex('F8010101'), fromHex('0801FF00'), fromHex('080101'), bytes(r, 4 * int(r, 4))]);
    default: break;
  }
  switch (int(r, 5)) {
    case 0: return new Uint8Array(0);
    case 1: return old.subarray(0, int(r, old.length + 1));
    case 2: { const v = old.slice(); if (v.length) v[int(r, v.length)] ^= 1 << int(r, 8); return v; }
    case 3: return bytes(r, old.length);
    default: return Uint8Array.from([...old, ...bytes(r, 1 + int(r, 8))]);
  }
}

/** One damaged copy of a response (data || SW). */
export function corruptResponse(r: Rand, resp: Uint8Array): Uint8Array {
  const data = resp.subarray(0, Math.max(0, resp.length - 2)), sw = resp.subarray(Math.max(0, resp.length - 2));
  const kind = int(r, 10);
  let d: Uint8Array = data.slice();
  if (kind <= 2) {
    // Structured: change one object's value, keeping the TLV around it valid where possible.
    const objs = objects(data);
    if (objs.length) {
      const n = pick(r, objs);
      d = replaceValue(data, n, valueFor(r, n.tag, n.value));
      return concat(d, sw);
    }
  }
  if (kind === 3 && d.length) {
    // A length byte made BER-indefinite, or a long form too long for EMV.
    const objs = objects(data);
    if (objs.length) {
      const n = pick(r, objs);
      d[n.offset + n.tag.length / 2] = pick(r, [0x80, 0x85, 0x88, 0xff, 0x84]);
      return concat(d, sw);
    }
  }
  switch (kind) {
    case 4: if (d.length) d[int(r, d.length)] ^= 1 << int(r, 8); break;
    case 5: if (d.length) d[int(r, d.length)] = pick(r, INTERESTING); break;
    case 6: d = d.subarray(0, int(r, d.length + 1)); break;
    case 7: d = concat(d, bytes(r, 1 + int(r, 16))); break;
    case 8: { const at = int(r, d.length + 1); d = concat(d.subarray(0, at), bytes(r, 1 + int(r, 4)), d.subarray(at)); break; }
    default: {
      // The status word: another code, or no status word at all.
      const s = pick(r, ['6985', '6984', '6986', '6A82', '6283', '9000', '61FF', '', '90']);
      return concat(d, fromHex(s));
    }
  }
  return concat(d, sw);
}

/** A capture with one to three of its responses damaged (and sometimes one dropped). */
export function corruptCapture(r: Rand, exchanges: readonly Exchange[]): Exchange[] {
  const out = exchanges.map((x) => ({ ...x }));
  const times = 1 + (r() < 0.25 ? int(r, 3) : 0);
  for (let k = 0; k < times; k++) {
    const i = int(r, out.length);
    out[i] = { command: out[i]!.command, response: toHex(corruptResponse(r, fromHex(out[i]!.response))) };
  }
  if (r() < 0.03) out.splice(int(r, out.length), 1);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
