// Base64 (RFC 4648 §4) and base64url (§5) <-> bytes, and Latin-1 text, in plain JavaScript:
// phone and server both use them, and a phone's JS engine has no Buffer (and Hermes no btoa).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i] as const));

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

/** Strict: only the alphabet (either variant), padding optional; throws Base64Error otherwise. */
export function fromBase64(text: string): Uint8Array {
  const s = text.replace(/-/g, '+').replace(/_/g, '/').replace(/={1,2}$/, '');
  if (s.length % 4 === 1 || !/^[A-Za-z0-9+/]*$/.test(s)) throw new Base64Error('not base64');
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const chunk = s.slice(i, i + 4);
    let n = 0;
    for (let j = 0; j < 4; j++) n = (n << 6) | (j < chunk.length ? INDEX.get(chunk[j]!)! : 0);
    for (let j = 0; j < chunk.length - 1; j++) out[o++] = (n >> (16 - 8 * j)) & 0xff;
  }
  return out;
}

/** Bytes as ISO 8859-1 text (one character per byte), as EMV and EMVCo QR carry names. */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
