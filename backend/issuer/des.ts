// DES key helpers EMV uses: odd parity (keys derived by encryption get their parity bits set)
// and xor of equal-length blocks. The TDES block cipher itself is ta/lib's, through ta-lib.ts.

/** Set each byte's least significant bit so the byte has an odd number of ones. */
export function adjustParity(key: Uint8Array): Uint8Array {
  return key.map((b) => {
    let ones = 0;
    for (let v = b >> 1; v; v >>= 1) ones += v & 1;
    return (b & 0xfe) | (ones % 2 === 0 ? 1 : 0);
  });
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError(`xor of ${a.length} and ${b.length} bytes`);
  return a.map((x, i) => x ^ b[i]!);
}
