// backend/util.ts: exactCounter — a protobufjs uint64 (Long, number or decimal) as an exact JS
// number, or null where it would round or is negative, read from the Long's two halves; the
// one-shot sha256Hex; the pooled random bytes.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { exactCounter, sha256Hex, pooledRandomBytes } from '../../backend/util.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 − 1: high half 0x1FFFFF, low half 0xFFFFFFFF
/** A Long as protobufjs decodes a uint64 field (unsigned) or as a signed Long would be. */
const long = (low: number, high: number, unsigned = true) => ({ low: low | 0, high: high | 0, unsigned, toString: () => 'not read' });

describe('exactCounter', () => {
  it.each([
    ['absent', undefined, 0],
    ['null', null, 0],
    ['a safe number', 42, 42],
    ['0', 0, 0],
    ['a negative number', -1, null],
    ['a fraction', 1.5, null],
    ['2^53 as a number', MAX + 1, null],
    ['a Long 0', long(0, 0), 0],
    ['a Long in the low half only', long(0xffffffff, 0), 0xffffffff],
    ['a Long with a high half', long(5, 1), 0x1_0000_0005],
    ['a Long at 2^53 − 1', long(0xffffffff, 0x1fffff), MAX],
    ['a Long at 2^53', long(0, 0x200000), null],
    ['a Long at 2^64 − 1 (unsigned)', long(0xffffffff, 0xffffffff), null],
    ['a signed Long below 0', long(0xffffffff, 0xffffffff, false), null],
    ['a signed Long at 2^32', long(0, 1, false), 0x1_0000_0000],
    ['a decimal-printing object (no halves)', { toString: () => '77' }, 77],
    ['a decimal-printing object past 2^53', { toString: () => String(2n ** 53n) }, null],
    ['something that does not print a number', { toString: () => 'x' }, null],
  ] as const)('%s', (_what, x, want) => {
    expect(exactCounter(x)).toBe(want);
  });

  it('reads what protobufjs decodes from a uint64 field, at and past 2^53 − 1', () => {
    const pay = trusttap.payment.v1;
    for (const [v, want] of [[0n, 0], [1n, 1], [2n ** 32n + 7n, 2 ** 32 + 7], [2n ** 53n - 1n, MAX], [2n ** 53n, null], [2n ** 64n - 1n, null]] as const) {
      const bytes = pay.AuthorizeResponse.encode({ amountMinor: v.toString() as any }).finish();
      const decoded = pay.AuthorizeResponse.decode(bytes).amountMinor;
      expect(exactCounter(decoded), `${v}`).toBe(want);
    }
  });
});

describe('sha256Hex and pooledRandomBytes (backend/util.ts)', () => {
  it('sha256Hex is SHA-256 of the parts end to end, strings as UTF-8', () => {
    const ref = (...parts: (Uint8Array | string)[]) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest('hex'); };
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // FIPS 180-2 example
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const cases: (Uint8Array | string)[][] = [['trusttap/pan/v1\0', '6228480000000000017'], [Uint8Array.of(1, 2, 3)], [Uint8Array.of(0xff), 'é€𝄞', new Uint8Array(0)], ['a', 'b', 'c']];
    for (const parts of cases) expect(sha256Hex(...parts)).toBe(ref(...parts));
    expect(sha256Hex('a', 'bc')).toBe(sha256Hex('abc'));
  });

  it('pooledRandomBytes: the length asked, a copy of its own each time, across the block boundary', () => {
    expect(pooledRandomBytes(0).length).toBe(0);
    const a = pooledRandomBytes(14);
    const keep = Buffer.from(a);
    a.fill(0xaa);
    expect(pooledRandomBytes(14)).not.toBe(a);
    expect(keep.length).toBe(14);
    // Past the 4 KiB block: a fresh block is drawn, and the whole length is served.
    expect(pooledRandomBytes(4000).length).toBe(4000);
    expect(pooledRandomBytes(200).length).toBe(200);
    expect(pooledRandomBytes(4096).length).toBe(4096);
    for (const bad of [-1, 1.5, 4097, NaN]) expect(() => pooledRandomBytes(bad)).toThrow(RangeError);
  });
});
