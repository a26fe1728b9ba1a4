// ECDSA signature canonical form (SEC 1 §4.1.3 allows both (r, s) and (r, n − s); BIP 62 / RFC 6979
// practice: keep s ≤ n/2). The host ABI's ecc_sign gives either (OpenSSL and a phone's TEE draw
// s at random), so the TA makes it low-S before a signature leaves the TEE: the back end and the
// verifiers then accept the low-S form only, so no signature has a second valid encoding.
// P-256 only (r||s, 32 bytes each, big-endian).

// n and n/2 (rounded down) of P-256 (FIPS 186-5 / SEC 2).
const N: StaticArray<u8> = [
  0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
const HALF_N: StaticArray<u8> = [
  0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/** s compared with a 32-byte big-endian constant: -1, 0 or 1. */
function compareS(sig: Uint8Array, k: StaticArray<u8>): i32 {
  for (let i = 0; i < 32; i++) {
    const a = <i32>sig[32 + i], b = <i32>k[i];
    if (a != b) return a > b ? 1 : -1;
  }
  return 0;
}

/** true for a 64-byte r||s whose s is at most n/2: the only form the verifiers accept. */
export function isLowS(sig: Uint8Array): bool {
  return sig.length == 64 && compareS(sig, HALF_N) <= 0;
}

/** Replaces s by n − s in place when n/2 < s < n (a 64-byte P-256 r||s signature). */
export function toLowS(sig: Uint8Array): void {
  if (sig.length != 64 || compareS(sig, HALF_N) <= 0 || compareS(sig, N) >= 0) return;
  let borrow = 0;
  for (let i = 31; i >= 0; i--) {
    let d = <i32>N[i] - <i32>sig[32 + i] - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 256;
    sig[32 + i] = <u8>d;
  }
}
