// Minimal BER-TLV reading for the authorization (EMV Book 3 Annex B): the record's cryptogram
// data and the decrypted card data. Constructed tags are descended into; a malformed input
// throws TlvError. (The REE has its own TLV code; the back end shares only proto/ with it.)
export class TlvError extends Error {}

/** Primitive tags of a BER-TLV string by upper-case hex tag (the first occurrence wins); the
 * values are copies. */
export function parseTlv(b: Uint8Array, out = new Map<string, Uint8Array>()): Map<string, Uint8Array> {
  let i = 0;
  while (i < b.length) {
    if (b[i] === 0x00 || b[i] === 0xff) { i++; continue; } // padding between objects
    const start = i;
    const constructed = (b[i] & 0x20) !== 0;
    if ((b[i++] & 0x1f) === 0x1f) {
      while (i < b.length && b[i] & 0x80) i++;
      i++;
    }
    if (i > b.length || i - start > 3) throw new TlvError('bad tag');
    const tag = Buffer.from(b.subarray(start, i)).toString('hex').toUpperCase();
    if (i >= b.length) throw new TlvError(`tag ${tag} has no length`);
    let len = b[i++];
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 3 || i + n > b.length) throw new TlvError(`tag ${tag}: bad length`);
      len = 0;
      for (let k = 0; k < n; k++) len = (len << 8) | b[i++];
    }
    if (i + len > b.length) throw new TlvError(`tag ${tag}: value runs past the end`);
    if (constructed) parseTlv(b.subarray(i, i + len), out);
    else if (!out.has(tag)) out.set(tag, b.slice(i, i + len)); // a copy: callers wipe the input
    i += len;
  }
  return out;
}

/** Decimal digits of a BCD value (n format); F nibbles (padding) end it. */
export function bcdDigits(v: Uint8Array): string {
  const h = Buffer.from(v).toString('hex').toUpperCase();
  const f = h.indexOf('F');
  return f < 0 ? h : h.slice(0, f);
}
