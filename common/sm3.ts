// SM3 cryptographic hash (GB/T 32905-2016, GM/T 0004-2012): 256-bit digest, Merkle–Damgård
// with SHA-256's padding. @noble/hashes has no SM3 and node:crypto is not in a phone's JS
// engine, so the SM2 signature scheme (common/sm2.ts: ZA and e) hashes with this one copy.
// Checked against the standard's examples and differentially against node:crypto ('sm3').

const IV = [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e];

const rotl = (x: number, n: number) => ((x << (n & 31)) | (x >>> ((32 - (n & 31)) & 31))) >>> 0;
const p0 = (x: number) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const p1 = (x: number) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;

function compress(v: number[], block: DataView, at: number, w: Uint32Array): void {
  for (let j = 0; j < 16; j++) w[j] = block.getUint32(at + 4 * j);
  for (let j = 16; j < 68; j++) w[j] = (p1(w[j - 16]! ^ w[j - 9]! ^ rotl(w[j - 3]!, 15)) ^ rotl(w[j - 13]!, 7) ^ w[j - 6]!) >>> 0;
  let [a, b, c, d, e, f, g, h] = v as [number, number, number, number, number, number, number, number];
  for (let j = 0; j < 64; j++) {
    const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
    const a12 = rotl(a, 12);
    const ss1 = rotl((a12 + e + rotl(t, j)) >>> 0, 7);
    const ss2 = (ss1 ^ a12) >>> 0;
    const ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
    const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
    const tt1 = ((ff >>> 0) + d + ss2 + ((w[j]! ^ w[j + 4]!) >>> 0)) >>> 0;
    const tt2 = ((gg >>> 0) + h + ss1 + w[j]!) >>> 0;
    d = c; c = rotl(b, 9); b = a; a = tt1;
    h = g; g = rotl(f, 19); f = e; e = p0(tt2);
  }
  const out = [a, b, c, d, e, f, g, h];
  for (let i = 0; i < 8; i++) v[i] = (v[i]! ^ out[i]!) >>> 0;
}

/** SM3 of the concatenation of `parts` (32 bytes). */
export function sm3(...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  // Padding: 0x80, zeros to 56 mod 64, then the bit length as a 64-bit big-endian number.
  const total = Math.ceil((len + 9) / 64) * 64;
  const msg = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { msg.set(p, o); o += p.length; }
  msg[len] = 0x80;
  const view = new DataView(msg.buffer);
  view.setUint32(total - 8, Math.floor(len / 0x20000000));
  view.setUint32(total - 4, (len * 8) >>> 0);
  const v = IV.slice();
  const w = new Uint32Array(68);
  for (let at = 0; at < total; at += 64) compress(v, view, at, w);
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  v.forEach((x, i) => ov.setUint32(4 * i, x));
  return out;
}
