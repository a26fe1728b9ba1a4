// At least 100,000 random/mutated inputs per message type through the AS decoder: no trap, no
// abort, every failure a typed DecodeError, and every success a fixed point (re-encoding and
// decoding again gives the same bytes). Mutation runs inside the wasm harness (deterministic
// xorshift from the seed below) so the whole file stays within seconds.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadHarness, type Harness } from './harness.ts';
import { randomMessage, rng } from './random.ts';
import { hex, pbjsReencode, root, staticClass } from './common.ts';

const ITERATIONS = 100_000;
const SEEDS = 48;
// 6 million decodes: about 75 s on two loaded cores alone, over 200 s beside other suites. A
// limit, not a speed assertion: a slow machine must not fail the fuzz.
const FUZZ_TIMEOUT_MS = 900_000;

let h: Harness;
beforeAll(async () => {
  h = await loadHarness();
});
afterEach(() => {
  expect(h.aborts).toEqual([]);
});

function seedsFor(fullName: string, seed: number): Uint8Array[] {
  const type = root.lookupType(fullName);
  const r = rng(seed);
  const out: Uint8Array[] = [new Uint8Array(0)];
  while (out.length < SEEDS) out.push(staticClass(fullName).encode(randomMessage(type, r)).finish());
  return out;
}

describe(`${ITERATIONS} mutated/random inputs per message type`, () => {
  it('every message type: no trap, typed errors, successes are fixed points', () => {
    const summary: string[] = [];
    let total = 0;
    for (const t of h.types) {
      const seeds = seedsFor(t.fullName, 0xf022 + t.index);
      const res = h.fuzz(t.index, seeds, ITERATIONS, 0x9e3779b9 ^ t.index);
      if (res.result < 0) throw new Error(`${t.fullName}: iteration ${-res.result - 1} broke the fixed point: ${hex(res.failing!)}`);
      const s = res.stats;
      // every input is accounted for: decoded (s[0]) or one of the 7 error codes
      expect(s.slice(0, 8).reduce((a, b) => a + b, 0), t.fullName).toBe(ITERATIONS);
      expect(s.slice(8).every((x) => x === 0)).toBe(true);
      summary.push(`${t.fullName}: ok ${s[0]}, errors ${s.slice(1, 8).join('/')}`);
      total += ITERATIONS;
    }
    expect(total).toBe(ITERATIONS * h.types.length);
    console.log(`fuzz (ok, errors TRUNCATED/VARINT_TOO_LONG/BAD_WIRE_TYPE/LENGTH_OUT_OF_RANGE/INVALID_UTF8/NESTING_TOO_DEEP/BAD_FIELD_NUMBER):\n  ${summary.join('\n  ')}`);
  }, FUZZ_TIMEOUT_MS);

  it('mutated inputs in JS: where AS and protobufjs both accept, they re-encode alike', () => {
    // A differential check on a smaller sample: the TA (AS) and the REE/back end (protobufjs)
    // must not read the same bytes differently.
    const PER_TYPE = 2_000;
    let both = 0, asOnly = 0, pbOnly = 0;
    for (const t of h.types) {
      const seeds = seedsFor(t.fullName, 0xd1ff + t.index);
      const r = rng(0xabc + t.index);
      for (let i = 0; i < PER_TYPE; i++) {
        const b = Uint8Array.from(seeds[1 + Math.floor(r() * (seeds.length - 1))]);
        const n = 1 + Math.floor(r() * 3);
        for (let k = 0; k < n && b.length; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
        const cut = r() < 0.3 ? b.subarray(0, Math.floor(r() * (b.length + 1))) : b;
        const as = h.roundtrip(t.index, cut);
        const pb = pbjsReencode(t.fullName, cut);
        if (as.code >= 0 && pb) {
          both++;
          if (hex(as.out) !== hex(pb)) throw new Error(`${t.fullName}: ${hex(cut)} → AS ${hex(as.out)} vs protobufjs ${hex(pb)}`);
        } else if (as.code >= 0) {
          asOnly++;
          throw new Error(`${t.fullName}: AS accepts what protobufjs rejects: ${hex(cut)}`);
        } else if (pb) {
          pbOnly++; // we are stricter: unknown groups, tags wider than 32 bits
        }
      }
    }
    console.log(`differential: both accept ${both}, only protobufjs ${pbOnly}, only AS ${asOnly}`);
    expect(both).toBeGreaterThan(1000);
  });
});
