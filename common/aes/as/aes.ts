// AES (FIPS 197) with the ECB and CBC modes (NIST SP 800-38A), compiled to WebAssembly with SIMD:
// the reference runtime's and the back end's host AES for the payment-key steps (a DUKPT
// derivation keys a new cipher for every block, where node:crypto's createCipheriv costs more than
// the cipher itself). Constant time: no memory address and no branch depends on a key or data
// byte. Each S-box lookup is sixteen i8x16.swizzle, one per 16-byte row of the table, and a
// swizzle lane whose index is 16 or more reads 0, so row t answers exactly the bytes whose high
// nibble is t (index - 16·t wraps above 15 for every other byte); i8x16.swizzle is one
// pshufb/tbl on x86/ARM, whose time does not depend on the indexes.
//
// Memory: the host writes the key at key_ptr(), the CBC chaining value at iv_ptr() and the data
// at buf_ptr() (buf_cap() bytes at most), calls expand() then ecb()/cbc() (in place), reads the
// data back, and calls wipe(), which zeroes key, chaining value, round keys and the data.

// The S-box of FIPS 197 (Figure 7 of the 2001 text, Table 4 of the 2023 update); the inverse
// (Figure 14 / Table 6) is derived from it at start.
const SBOX = memory.data<u8>([
  0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
  0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
  0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
  0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
  0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
  0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
  0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
  0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
  0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
  0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
  0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
  0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
  0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
  0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
  0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
  0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
], 16);
const INV_SBOX = memory.data(256, 16);
const KEY = memory.data(32, 16);
const IV = memory.data(16, 16);
const RK = memory.data(240, 16); // up to 15 round keys (AES-256)
let rounds = 0;

// Public data only: the inverse table from the S-box.
for (let x = 0; x < 256; x++) store<u8>(INV_SBOX + <usize>load<u8>(SBOX + x), <u8>x);

// SubBytes / InvSubBytes on all 16 bytes: OR of the 16 row lookups (see the top of the file).
// @ts-ignore: decorator
@inline function subBytes(x: v128, table: usize): v128 {
  const step = i8x16.splat(0x10);
  let r = i8x16.swizzle(v128.load(table), x);
  let i = i8x16.sub(x, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 16), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 32), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 48), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 64), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 80), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 96), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 112), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 128), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 144), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 160), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 176), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 192), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 208), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 224), i));
  i = i8x16.sub(i, step); r = v128.or(r, i8x16.swizzle(v128.load(table, 240), i));
  return r;
}

// The state is column-major as in FIPS 197 §3.4: byte 4c + r is row r of column c.
// @ts-ignore: decorator
@inline function shiftRows(s: v128): v128 {
  return i8x16.shuffle(s, s, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
}
// @ts-ignore: decorator
@inline function invShiftRows(s: v128): v128 {
  return i8x16.shuffle(s, s, 0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3);
}
// Row r of each column gets row r+1 (r+2) of the same column.
// @ts-ignore: decorator
@inline function rot1(s: v128): v128 {
  return i8x16.shuffle(s, s, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
}
// @ts-ignore: decorator
@inline function rot2(s: v128): v128 {
  return i8x16.shuffle(s, s, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}
// Multiplication by x in GF(2^8) mod x^8 + x^4 + x^3 + x + 1 (FIPS 197 §4.2.1), every byte.
// @ts-ignore: decorator
@inline function xtime(v: v128): v128 {
  return v128.xor(i8x16.add(v, v), v128.and(i8x16.lt_s(v, i8x16.splat(0)), i8x16.splat(0x1b)));
}
// MixColumns (§5.1.3): b_r = 2a_r ^ 3a_(r+1) ^ a_(r+2) ^ a_(r+3) = 2t_r ^ a_(r+1) ^ t_(r+2), t = a ^ rot1(a).
// @ts-ignore: decorator
@inline function mixColumns(s: v128): v128 {
  const r1 = rot1(s);
  const t = v128.xor(s, r1);
  return v128.xor(v128.xor(xtime(t), r1), rot2(t));
}
// InvMixColumns (§5.3.3) as MixColumns after adding 4·(a_r ^ a_(r+2)) to each byte:
// {0e,0b,0d,09} = {02,03,01,01}·({01,00,01,00}·x² + 1) in the column polynomial ring.
// @ts-ignore: decorator
@inline function invMixColumns(s: v128): v128 {
  return mixColumns(v128.xor(s, xtime(xtime(v128.xor(s, rot2(s))))));
}

// @ts-ignore: decorator
@inline function encryptBlock(b: v128): v128 {
  let s = v128.xor(b, v128.load(RK));
  const last = <usize>rounds << 4;
  for (let o: usize = 16; o < last; o += 16) s = v128.xor(mixColumns(shiftRows(subBytes(s, SBOX))), v128.load(RK + o));
  return v128.xor(shiftRows(subBytes(s, SBOX)), v128.load(RK + last));
}
// The inverse cipher of §5.3 (the round keys as expanded for encryption, in reverse).
// @ts-ignore: decorator
@inline function decryptBlock(b: v128): v128 {
  let o = <usize>rounds << 4;
  let s = v128.xor(b, v128.load(RK + o));
  for (o -= 16; o > 0; o -= 16) s = invMixColumns(v128.xor(subBytes(invShiftRows(s), INV_SBOX), v128.load(RK + o)));
  return v128.xor(subBytes(invShiftRows(s), INV_SBOX), v128.load(RK));
}

function subWord(w: u32): u32 {
  return i32x4.extract_lane(subBytes(i32x4.splat(w), SBOX), 0);
}

/** KeyExpansion (§5.2) of the keyLen-byte key at key_ptr(): returns Nr, or 0 for a length that is not 16, 24 or 32. */
export function expand(keyLen: i32): i32 {
  if (keyLen != 16 && keyLen != 24 && keyLen != 32) return 0;
  const nk = keyLen >> 2;
  rounds = nk + 6;
  const words = (rounds + 1) << 2;
  memory.copy(RK, KEY, keyLen);
  let rcon: u32 = 1;
  for (let i = nk; i < words; i++) {
    let t = load<u32>(RK + ((i - 1) << 2));
    if (i % nk == 0) {
      // RotWord on the little-endian word is a rotation right by 8; Rcon is its first byte.
      t = subWord(rotr<u32>(t, 8)) ^ rcon;
      rcon = (rcon << 1) ^ (0x11b & -(rcon >> 7));
    } else if (nk == 8 && i % nk == 4) {
      t = subWord(t);
    }
    store<u32>(RK + (i << 2), load<u32>(RK + ((i - nk) << 2)) ^ t);
  }
  return rounds;
}

const BUF: usize = (__heap_base + 15) & ~15;

export function key_ptr(): usize { return KEY; }
export function iv_ptr(): usize { return IV; }
export function buf_ptr(): usize { return BUF; }
export function buf_cap(): usize { return (<usize>memory.size() << 16) - BUF; }

/** ECB over n bytes at buf_ptr() (n a multiple of 16), in place. */
export function ecb(n: usize, decrypt: bool): void {
  const end = BUF + (n & ~15);
  if (decrypt) for (let p = BUF; p < end; p += 16) v128.store(p, decryptBlock(v128.load(p)));
  else for (let p = BUF; p < end; p += 16) v128.store(p, encryptBlock(v128.load(p)));
}

/** CBC over n bytes at buf_ptr(), in place, chaining from iv_ptr(), which holds the last
 * ciphertext block afterwards (the next call continues the chain). */
export function cbc(n: usize, decrypt: bool): void {
  const end = BUF + (n & ~15);
  let chain = v128.load(IV);
  if (decrypt) {
    for (let p = BUF; p < end; p += 16) {
      const c = v128.load(p);
      v128.store(p, v128.xor(decryptBlock(c), chain));
      chain = c;
    }
  } else {
    for (let p = BUF; p < end; p += 16) {
      chain = encryptBlock(v128.xor(v128.load(p), chain));
      v128.store(p, chain);
    }
  }
  v128.store(IV, chain);
}

/** Zeroes the key, the chaining value, the round keys and the first n bytes of the buffer. */
export function wipe(n: usize): void {
  memory.fill(KEY, 0, 32);
  memory.fill(IV, 0, 16);
  memory.fill(RK, 0, 240);
  memory.fill(BUF, 0, min(n, buf_cap()));
  rounds = 0;
}
