// A small seeded PRNG (mulberry32) so that a failing random test can be replayed from its seed.
import { mulberry32 } from '../helpers/mulberry32.ts';

export function rng(seed: number) {
  const next = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    digits: (n: number) => Array.from({ length: n }, () => String(int(0, 9))).join(''),
    hex: (bytes: number) => Array.from({ length: bytes }, () => int(0, 255).toString(16).padStart(2, '0')).join('').toUpperCase(),
    hexNibbles: (n: number, lo: number, hi: number) => Array.from({ length: n }, () => int(lo, hi).toString(16)).join('').toUpperCase(),
  };
}
