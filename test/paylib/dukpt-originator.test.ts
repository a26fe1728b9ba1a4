// The DUKPT originator (ta/lib/dukpt-originator.ts), TDES and AES, against the receiver's
// derivation written independently in ref.ts: every transaction key, the counter sequence with
// its skips, the remaining count, and exhaustion.
import { describe, expect, test } from 'vitest';
import { paylib } from '../as/paylib-host.ts';
import { rng, dukptAesInitialKey, dukptAesDerivationKey, dukptTdesIpek, dukptTdesTxnKey } from './ref.ts';

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const OVERFLOW = 0xffff300f;
const popcount = (x: number) => { let n = 0; for (x >>>= 0; x; x = (x & (x - 1)) >>> 0) n++; return n; };
const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n >>> 0, true); return b; };
const tail = (b: Uint8Array) => { const v = new DataView(b.buffer, b.byteOffset); return { remaining: v.getUint32(0, true), status: v.getUint32(4, true) }; };
const aesCounter = (ksn: Uint8Array) => new DataView(ksn.buffer, ksn.byteOffset).getUint32(8);
const tdesCounter = (ksn: Uint8Array) => ((ksn[7] & 0x1f) << 16) | (ksn[8] << 8) | ksn[9];
const aesKsn = (ikid: Uint8Array, c: number) => { const k = new Uint8Array(12); k.set(ikid); new DataView(k.buffer).setUint32(8, c >>> 0); return k; };
const binom = (n: number, k: number): number => { let r = 1; for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i; return Math.round(r); };

/** Counters >= from with 1..maxOnes one bits in width bits (brute force where small, else combinatorial). */
function expectedRemaining(from: number, width: number, maxOnes: number): number {
  let total = 0;
  for (let k = 1; k <= maxOnes; k++) total += binom(width, k);
  let below = 0;
  for (let x = 1; x < from; x++) if (popcount(x) <= maxOnes) below++;
  return total - below;
}

describe('AES DUKPT originator (X9.24-3 intermediate derivation registers)', () => {
  test('first 600 transactions: keys equal the receiver derivation from the initial key', async () => {
    const p = await paylib();
    const r = rng(77);
    for (const len of [16, 32]) {
      const bdk = r.bytes(len), ikid = r.bytes(8);
      const ik = dukptAesInitialKey(bdk, ikid);
      const out = p.call('originatorRun', [1, 600], [ik, ikid]);
      for (let i = 0; i < 600; i++) {
        const key = out[2 * i]!, ksn = out[2 * i + 1]!;
        expect(aesCounter(ksn)).toBe(i + 1);
        expect(same(key, dukptAesDerivationKey(ik, ksn))).toBe(true);
      }
    }
  });

  test('a counter with 16 one bits is followed by the next counter with at most 16', async () => {
    const p = await paylib();
    const r = rng(78);
    const ik = dukptAesInitialKey(r.bytes(16), r.bytes(8));
    const ikid = r.bytes(8);
    const start = 0x0000ffff; // 16 one bits
    const out = p.call('originatorFrom', [1, 3], [ik, ikid, u32(start)]);
    const counters = [0, 1, 2].map((i) => aesCounter(out[2 * i + 1]!));
    expect(counters).toEqual([0xffff, 0x10000, 0x10001]);
    for (let i = 0; i < 3; i++) expect(same(out[2 * i]!, dukptAesDerivationKey(ik, aesKsn(ikid, counters[i])))).toBe(true);
  });

  test('the last counter 0xFFFF0000 works once, then the key set is exhausted (OVERFLOW)', async () => {
    const p = await paylib();
    const r = rng(79);
    const ikid = r.bytes(8);
    const ik = dukptAesInitialKey(r.bytes(16), ikid);
    const out = p.call('originatorFrom', [1, 5], [ik, ikid, u32(0xffff0000)]);
    expect(out.length).toBe(3);
    expect(aesCounter(out[1]!)).toBe(0xffff0000);
    expect(same(out[0]!, dukptAesDerivationKey(ik, out[1]!))).toBe(true);
    expect(tail(out[2]!)).toEqual({ remaining: 1, status: OVERFLOW });
  });
});

describe('TDES DUKPT originator (X9.24-1 future key registers)', () => {
  test('crossing 0x3FF (10 one bits) skips to 0x400; keys equal the receiver derivation', async () => {
    const p = await paylib();
    const r = rng(80);
    const ksn = Uint8Array.from(Buffer.from('FFFF9876543210E00000', 'hex'));
    const ipek = dukptTdesIpek(r.bytes(16), ksn);
    const out = p.call('originatorFrom', [0, 3], [ipek, ksn, u32(0x3fe)]);
    const counters = [0, 1, 2].map((i) => tdesCounter(out[2 * i + 1]!));
    expect(counters).toEqual([0x3fe, 0x3ff, 0x400]);
    for (let i = 0; i < 3; i++) expect(same(out[2 * i]!, dukptTdesTxnKey(ipek, out[2 * i + 1]!))).toBe(true);
    expect(tail(out[6]!).remaining).toBe(expectedRemaining(0x3fe, 21, 10));
  });

  test('the last counter 0x1FF800 works once, then OVERFLOW', async () => {
    const p = await paylib();
    const ksn = Uint8Array.from(Buffer.from('FFFF9876543210E00000', 'hex'));
    const ipek = dukptTdesIpek(new Uint8Array(16).fill(0x42), ksn);
    const out = p.call('originatorFrom', [0, 5], [ipek, ksn, u32(0x1ff800)]);
    expect(out.length).toBe(3);
    expect(tdesCounter(out[1]!)).toBe(0x1ff800);
    expect(same(out[0]!, dukptTdesTxnKey(ipek, out[1]!))).toBe(true);
    expect(tail(out[2]!)).toEqual({ remaining: 1, status: OVERFLOW });
  });

  test('a fresh key set has every counter with 1..10 one bits ahead of it', async () => {
    const p = await paylib();
    const ksn = Uint8Array.from(Buffer.from('FFFF9876543210E00000', 'hex'));
    const ipek = dukptTdesIpek(new Uint8Array(16).fill(0x24), ksn);
    const out = p.call('originatorFrom', [0, 0], [ipek, ksn, u32(1)]);
    let total = 0;
    for (let k = 1; k <= 10; k++) total += binom(21, k);
    expect(tail(out[0]!).remaining).toBe(total);
  });
});
