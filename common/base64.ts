// Base64 (RFC 4648 §4) and base64url (§5) <-> bytes, and Latin-1 text, in plain JavaScript:
// phone and server both use them, and a phone's JS engine has no Buffer (and Hermes no btoa).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Value of each ASCII character in either alphabet (§4 and §5), -1 for anything else. */
const INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) INDEX[ALPHABET.charCodeAt(i)] = i;
INDEX[0x2d] = 62; // '-' (base64url)
INDEX[0x5f] = 63; // '_' (base64url)

export class Base64Error extends Error {
  readonly code = 'BASE64_INVALID';
  constructor(message: string) { super(message); this.name = 'Base64Error'; }
}

export function toBase64(bytes: Uint8Array, url = false): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const k = Math.min(3, bytes.length - i);
    for (let j = 0; j < 4; j++) s += j <= k ? ALPHABET[(n >> (18 - 6 * j)) & 63] : '=';
  }
  return url ? s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : s;
}

/** Strict: only the alphabet (either variant), padding optional; throws Base64Error otherwise.
 * One pass over char codes: it runs in every TA cold start (the manifest's key and signature). */
export function fromBase64(text: string): Uint8Array {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) { end--; if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--; }
  if (end % 4 === 1) throw new Base64Error('not base64');
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let o = 0, n = 0, bits = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? INDEX[c]! : -1;
    if (v < 0) throw new Base64Error('not base64');
    n = ((n << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) { bits -= 8; out[o++] = (n >> bits) & 0xff; }
  }
  return out;
}

/** Bytes as ISO 8859-1 text (one character per byte), as EMV and EMVCo QR carry names. */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
