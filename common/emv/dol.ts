// Data Object Lists (EMV Book 3 §5.4): a DOL is a list of tag + length with no values; the
// terminal answers with the concatenated values, each fitted to the length the card asked for.
import { concat, fromHex, toHex } from '../hex.ts';
import { TlvError, isConstructed } from '../tlv.ts';
import { tagFormat } from './tags.ts';

export interface DolEntry { tag: string; length: number }

export function parseDol(dol: Uint8Array): DolEntry[] {
  const out: DolEntry[] = [];
  let i = 0;
  while (i < dol.length) {
    const start = i;
    let end = i + 1;
    if ((dol[i]! & 0x1f) === 0x1f) {
      do {
        if (end >= dol.length) throw new TlvError('TAG_MALFORMED', 'DOL tag malformed, expecting more data', hexOf(dol, start, dol.length), start);
        end++;
      } while (dol[end - 1]! & 0x80);
    }
    const tag = hexOf(dol, start, end);
    // DOL lengths are one byte in practice; accept the BER long form for robustness.
    if (end >= dol.length) throw new TlvError('LENGTH_MALFORMED', 'DOL length malformed, expecting 1 byte(s)', tag, end);
    let len = dol[end]!;
    i = end + 1;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 2 || i + n > dol.length) throw new TlvError('LENGTH_MALFORMED', `DOL length malformed, expecting ${n} byte(s)`, tag, i);
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + dol[i + k]!;
      i += n;
    }
    out.push({ tag, length: len });
  }
  return out;
}

export function dolDataLength(entries: DolEntry[]): number {
  return entries.reduce((n, e) => n + e.length, 0);
}

/** Where DOL values come from: looked up in order, first source holding the tag wins. */
export type DolSource = (tag: string) => Uint8Array | undefined;

export function mapSource(...maps: Array<Record<string, string> | Map<string, Uint8Array>>): DolSource {
  return (tag) => {
    for (const m of maps) {
      if (m instanceof Map) { const v = m.get(tag); if (v) return v; }
      else if (tag in m) return fromHex(m[tag]!, `value of ${tag}`);
    }
    return undefined;
  };
}

/** Fit a value to the length the DOL asks for (Book 3 §5.4). */
export function fitValue(tag: string, value: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const fmt = tagFormat(tag);
  if (fmt === 'n') {
    // Numeric: right-justified — keep the rightmost digits, pad with leading zeros.
    const take = Math.min(length, value.length);
    out.set(value.subarray(value.length - take), length - take);
  } else if (fmt === 'cn') {
    // Compressed numeric: left-justified, padded with 'F' nibbles.
    out.fill(0xff);
    out.set(value.subarray(0, Math.min(length, value.length)));
  } else {
    // Everything else: left-justified, truncated on the right, padded with zeros.
    out.set(value.subarray(0, Math.min(length, value.length)));
  }
  return out;
}

/** Concatenate the values a DOL asks for; unknown and constructed tags give zeros. */
export function buildDol(entries: DolEntry[], source: DolSource): Uint8Array {
  return concat(...entries.map((e) => {
    const v = isConstructed(e.tag) ? undefined : source(e.tag);
    return v ? fitValue(e.tag, v, e.length) : new Uint8Array(e.length);
  }));
}

function hexOf(d: Uint8Array, a: number, b: number): string {
  return toHex(d.subarray(a, b));
}
