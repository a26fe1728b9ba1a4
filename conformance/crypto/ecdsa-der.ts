// Strict DER decoding of an ECDSA-Sig-Value (SEC 1 v2 §C.5 / RFC 3279 §2.2.3:
// SEQUENCE { r INTEGER, s INTEGER }) into the raw r || s form (IEEE P1363) that the host ABI's
// ecc_verify takes. Anything that is not the one DER encoding is refused: BER long or
// indefinite lengths, non-minimal lengths or integers, negative or empty integers, integers
// wider than the curve, other tags, trailing bytes. Range checks of r and s (0 < r, s < n)
// are left to the verifier, which Wycheproof then tests through the raw path.

/** r || s, each left-padded to `size` bytes; null when `der` is not a DER ECDSA signature. */
export function ecdsaDerToRaw(der: Uint8Array, size = 32): Uint8Array | null {
  let o = 0;
  const len = (): number | null => {
    const b = der[o++];
    if (b === undefined) return null;
    if (b < 0x80) return b;
    const nb = b & 0x7f;
    if (nb !== 1) return null; // 0x80 indefinite, or more length bytes than a signature can need
    const l = der[o++];
    if (l === undefined || l < 0x80) return null; // non-minimal
    return l;
  };
  const int = (): Uint8Array | null => {
    if (der[o++] !== 0x02) return null;
    const l = len();
    if (l === null || l === 0 || o + l > der.length) return null;
    const v = der.subarray(o, o + l);
    o += l;
    if (v[0]! & 0x80) return null; // negative
    if (l > 1 && v[0] === 0 && !(v[1]! & 0x80)) return null; // leading zero not needed
    const body = v[0] === 0 && l > 1 ? v.subarray(1) : v;
    if (body.length > size) return null;
    const out = new Uint8Array(size);
    out.set(body, size - body.length);
    return out;
  };
  if (der[o++] !== 0x30) return null;
  const seqLen = len();
  if (seqLen === null || o + seqLen !== der.length) return null;
  const r = int();
  if (!r) return null;
  const s = int();
  if (!s || o !== der.length) return null;
  const raw = new Uint8Array(2 * size);
  raw.set(r, 0);
  raw.set(s, size);
  return raw;
}
