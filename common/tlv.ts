// BER-TLV as EMV uses it (EMV Book 3 Annex B; ISO/IEC 8825-1 subset): tags of one to three
// bytes, definite lengths up to four bytes, constructed objects nest. Decoding is strict about
// truncation (cards and relays do send short data) and lenient where real cards are: '00'
// padding between objects, non-minimal long-form lengths. BER's indefinite length (0x80) is
// refused: EMV data objects are definite (Book 3 Annex B), and reading it as anything (zero,
// "to the end") lets a card make the terminal see objects it did not sign.
import { concat, fromHex, toHex } from './hex.ts';

export type TlvErrorCode =
  | 'TAG_MALFORMED'      // tag runs past the end of the data
  | 'LENGTH_MALFORMED'   // length field missing or truncated
  | 'LENGTH_UNSUPPORTED' // long-form length of more than 4 bytes
  | 'LENGTH_INDEFINITE'  // BER indefinite length (0x80), which EMV does not allow
  | 'VALUE_MALFORMED'    // value shorter than its length says
  | 'NESTING_TOO_DEEP'   // constructed objects nested beyond the limit
  | 'ENCODE_INVALID';    // a value given to the encoder cannot be encoded as asked

export class TlvError extends Error {
  constructor(
    readonly code: TlvErrorCode,
    message: string,
    /** hex of the tag being parsed (as much as was read) */
    readonly tag: string,
    /** byte offset in the outermost input where parsing failed */
    readonly offset: number,
  ) {
    super(`${message} (tag ${tag || '-'} at offset ${offset})`);
    this.name = 'TlvError';
  }
}

export interface Tlv {
  tag: string;          // upper-case hex, e.g. '9F02'
  value: Uint8Array;    // raw value bytes (for constructed tags, the encoded children)
  children?: Tlv[];     // present when the tag is constructed
  offset: number;       // where the tag starts in the decoded input
}

export interface DecodeOptions {
  /** Skip '00' bytes between objects (EMV Book 3 Annex B allows them). Default true. */
  skipPadding?: boolean;
  /** Limit on constructed nesting; guards the stack against hostile input. Default 16. */
  maxDepth?: number;
  /** Salvage mode for captures and diagnostics, never for the kernel: a truncated object ends
   *  the parse instead of failing it; a truncated constructed object keeps its complete
   *  children. Default false. */
  salvageTruncated?: boolean;
}

/** Bit 6 of the first tag byte marks a constructed data object. */
export function isConstructed(tag: string): boolean {
  return (parseInt(tag.slice(0, 2), 16) & 0x20) !== 0;
}

export function decodeTlv(data: Uint8Array, opts: DecodeOptions = {}): Tlv[] {
  const o = { skipPadding: opts.skipPadding ?? true, maxDepth: opts.maxDepth ?? 16, salvage: opts.salvageTruncated ?? false };
  return decodeRange(data, 0, data.length, 0, o);
}

interface Opts { skipPadding: boolean; maxDepth: number; salvage: boolean }

function decodeRange(d: Uint8Array, start: number, end: number, depth: number, o: Opts): Tlv[] {
  const out: Tlv[] = [];
  try {
    decodeInto(d, start, end, depth, o, out);
  } catch (e) {
    if (!(o.salvage && e instanceof TlvError && e.code !== 'NESTING_TOO_DEEP')) throw e;
  }
  return out;
}

function decodeInto(d: Uint8Array, start: number, end: number, depth: number, o: Opts, out: Tlv[]): void {
  let i = start;
  while (i < end) {
    if (o.skipPadding && d[i] === 0x00) { i++; continue; }
    const tagStart = i;
    // Tag: low five bits all set → more bytes follow while bit 8 is set.
    let tagEnd = i + 1;
    if ((d[i]! & 0x1f) === 0x1f) {
      do {
        if (tagEnd >= end) throw new TlvError('TAG_MALFORMED', 'Tag malformed, expecting more data', toHex(d.subarray(tagStart, end)), tagStart);
        tagEnd++;
      } while (d[tagEnd - 1]! & 0x80);
    }
    const tag = toHex(d.subarray(tagStart, tagEnd));
    i = tagEnd;
    // Length: short form, or 0x8n followed by n bytes (n = 1..4). 0x80 is BER's indefinite form.
    if (i >= end) throw new TlvError('LENGTH_MALFORMED', 'Tag length malformed, expecting 1 byte(s)', tag, i);
    let len = d[i]!;
    if (len === 0x80) throw new TlvError('LENGTH_INDEFINITE', 'Indefinite length (0x80) is not allowed in EMV data', tag, i);
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n > 4) throw new TlvError('LENGTH_UNSUPPORTED', `Tag length of ${n} bytes not supported`, tag, i);
      if (i + 1 + n > end) throw new TlvError('LENGTH_MALFORMED', `Tag length malformed, expecting ${n} byte(s)`, tag, i + 1);
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + d[i + 1 + k]!;
      i += 1 + n;
    } else {
      i += 1;
    }
    if (i + len > end) {
      const err = new TlvError('VALUE_MALFORMED', `Tag value malformed, expecting ${len} byte(s)`, tag, i);
      if (o.salvage && isConstructed(tag) && depth + 1 <= o.maxDepth) {
        out.push({ tag, value: d.subarray(i, end), offset: tagStart, children: decodeRange(d, i, end, depth + 1, o) });
      }
      throw err;
    }
    const value = d.subarray(i, i + len);
    const node: Tlv = { tag, value, offset: tagStart };
    if (isConstructed(tag)) {
      if (depth + 1 > o.maxDepth) throw new TlvError('NESTING_TOO_DEEP', `Constructed objects nested deeper than ${o.maxDepth}`, tag, tagStart);
      node.children = decodeRange(d, i, i + len, depth + 1, o);
    }
    out.push(node);
    i += len;
  }
}

/** A tree of data objects: primitive tags map to hex values, constructed tags to sub-trees. */
export type TlvTree = { [tag: string]: string | TlvTree };
/** Ordered input for the encoder (a plain object loses the order of all-digit tags like '57'). */
export type TlvEntry = [tag: string, value: string | Uint8Array | TlvEntry[]];

export function encodeLength(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new TlvError('ENCODE_INVALID', `Length ${n} cannot be encoded`, '', 0);
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function checkTag(tag: string): Uint8Array {
  const t = fromHex(tag, `tag '${tag}'`);
  const ok = t.length >= 1 && (
    t.length === 1 ? (t[0]! & 0x1f) !== 0x1f
      : (t[0]! & 0x1f) === 0x1f && t.slice(1, -1).every((b) => (b & 0x80) !== 0) && (t[t.length - 1]! & 0x80) === 0
  );
  if (!ok) throw new TlvError('ENCODE_INVALID', `Tag '${tag}' is not a well-formed BER tag`, tag, 0);
  return t;
}

/** Encode one data object. */
export function encodeOne(tag: string, value: Uint8Array): Uint8Array {
  return concat(checkTag(tag), encodeLength(value.length), value);
}

export function encodeTlv(entries: TlvEntry[]): Uint8Array {
  return concat(...entries.map(([tag, v]) => {
    if (Array.isArray(v)) {
      if (!isConstructed(tag)) throw new TlvError('ENCODE_INVALID', `Tag ${tag} is primitive but was given children`, tag, 0);
      return encodeOne(tag, encodeTlv(v));
    }
    if (isConstructed(tag) && typeof v === 'string' && v !== '') {
      // A constructed tag given raw bytes is allowed only if they parse as TLV.
      decodeTlv(fromHex(v));
    }
    return encodeOne(tag, typeof v === 'string' ? fromHex(v, `value of ${tag}`) : v);
  }));
}

export function treeToEntries(tree: TlvTree): TlvEntry[] {
  return Object.entries(tree).map(([tag, v]) => [tag, typeof v === 'string' ? v : treeToEntries(v)]);
}

/** Nested tree view; a later duplicate of a tag at the same level replaces the earlier. */
export function toTree(nodes: Tlv[]): TlvTree {
  const t: TlvTree = {};
  for (const n of nodes) t[n.tag] = n.children ? toTree(n.children) : toHex(n.value);
  return t;
}

/** Primitive data objects at any depth, later duplicates winning (the order the card sent them). */
export function flatten(nodes: Tlv[], into: Map<string, Uint8Array> = new Map()): Map<string, Uint8Array> {
  for (const n of nodes) {
    if (n.children) flatten(n.children, into);
    else into.set(n.tag, n.value);
  }
  return into;
}

/** Depth-first search for the first object with this tag (primitive or constructed). */
export function findTag(nodes: Tlv[], tag: string): Tlv | undefined {
  for (const n of nodes) {
    if (n.tag === tag) return n;
    if (n.children) {
      const f = findTag(n.children, tag);
      if (f) return f;
    }
  }
  return undefined;
}
