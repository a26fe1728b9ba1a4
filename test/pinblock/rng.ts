// A small seeded PRNG (mulberry32) so that a failing random test can be replayed from its seed.
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    digits: (n: number) => Array.from({ length: n }, () => String(int(0, 9))).join(''),
    hex: (bytes: number) => Array.from({ length: bytes }, () => int(0, 255).toString(16).padStart(2, '0')).join('').toUpperCase(),
    hexNibbles: (n: number, lo: number, hi: number) => Array.from({ length: n }, () => int(lo, hi).toString(16)).join('').toUpperCase(),
  };
}
