// backend/util.ts exactCounter: a protobufjs uint64 (Long, number or decimal) as an exact JS
// number, or null where it would round or is negative — read from the Long's two halves.
import { describe, expect, it } from 'vitest';
import { exactCounter } from '../../backend/util.ts';
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
