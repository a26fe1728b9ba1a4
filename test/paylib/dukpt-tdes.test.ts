// TDES DUKPT (ANSI X9.24-1:2009) in ta/lib against an independent derivation from the BDK
// (test/paylib/ref.ts on node:crypto), the originator's future-key registers against the
// receiver's derivation, and the counter rules. No key appears in a test name or message.
import { describe, expect, test } from 'vitest';
import { paylib, PaylibError } from '../as/paylib-host.ts';
import { rng, dukptTdesIpek, dukptTdesTxnKey, dukptTdesWorkingKey, tdesEcb, tdesCbc, retailMac, tdesCmac } from './ref.ts';

const N = 10_000;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const OVERFLOW = 0xffff300f | 0;
const BAD_PARAMETERS = 0xffff0006 | 0;
const popcount = (x: number) => { let n = 0; for (; x; x &= x - 1) n++; return n; };
const counterOf = (ksn: Uint8Array) => ((ksn[7]! & 0x1f) << 16) | (ksn[8]! << 8) | ksn[9]!;
const withCounter = (ksn: Uint8Array, c: number) => { const k = ksn.slice(); k[7] = (k[7]! & 0xe0) | (c >> 16); k[8] = (c >> 8) & 255; k[9] = c & 255; return k; };

/** A random valid counter: 1..10 one bits among the 21. */
function randomCounter(r: ReturnType<typeof rng>): number {
  const bits = 1 + r.int(10);
  let c = 0;
  while (popcount(c) < bits) c |= 1 << r.int(21);
  return c;
}

describe('TDES DUKPT agrees with an independent derivation from the BDK', () => {
  test(`IPEK and transaction key for random BDKs and KSNs (${N})`, async () => {
    const p = await paylib();
    const r = rng(11);
    let bad = -1;
    for (let i = 0; i < N && bad < 0; i++) {
      const bdk = r.bytes(16);
      const ksn = withCounter(r.bytes(10), randomCounter(r));
      const [ipek] = p.call('dtIpek', [], [bdk, ksn]);
      const ref = dukptTdesIpek(bdk, ksn);
      const [txn] = p.call('dtTxnKey', [], [ipek!, ksn]);
      if (!same(ipek!, ref) || !same(txn!, dukptTdesTxnKey(ref, ksn))) bad = i;
    }
    expect(bad).toBe(-1);
  });

  test('working keys, PIN block, X9.19 MACs, CMACs and data encryption (1,000 random)', async () => {
    const p = await paylib();
    const r = rng(12);
    let bad = -1;
    for (let i = 0; i < 1000 && bad < 0; i++) {
      const ipek = r.bytes(16);
      const ksn = withCounter(r.bytes(10), randomCounter(r));
      const pinBlock = r.bytes(8), mac = r.bytes(r.int(40)), data = r.bytes(8 * (1 + r.int(4))), iv = r.bytes(8);
      const o = p.call('dtTransaction', [], [ipek, ksn, pinBlock, mac, data, iv]);
      const t = dukptTdesTxnKey(ipek, ksn);
      const w = (v: Parameters<typeof dukptTdesWorkingKey>[1]) => dukptTdesWorkingKey(t, v);
      const expected = [
        t, tdesEcb(w('pin'), pinBlock),
        retailMac(w('macRequest').subarray(0, 8), w('macRequest').subarray(8), mac, 1),
        retailMac(w('macResponse').subarray(0, 8), w('macResponse').subarray(8), mac, 1),
        tdesCmac(w('macRequest'), mac), tdesCmac(w('macResponse'), mac),
        tdesCbc(w('dataRequest'), data, iv),
        w('pin'), w('macRequest'), w('macResponse'), w('dataRequest'), w('dataResponse'),
      ];
      if (o.length !== expected.length || o.some((x, j) => !same(x, expected[j]!))) bad = i;
    }
    expect(bad).toBe(-1);
  });
});

describe('originator (future-key registers, X9.24-1 A.2)', () => {
  test('3,000 consecutive transactions: keys equal the receiver derivation, KSNs skip counters with > 10 one bits', async () => {
    const p = await paylib();
    const r = rng(13);
    const bdk = r.bytes(16);
    const iksn = withCounter(r.bytes(10), 0);
    const ipek = dukptTdesIpek(bdk, iksn);
    const o = p.call('originatorRun', [0, 3000], [ipek, iksn]);
    expect(o.length).toBe(6000);
    let bad = -1;
    let prev = 0;
    for (let i = 0; i < 3000 && bad < 0; i++) {
      const key = o[2 * i]!, ksn = o[2 * i + 1]!;
      const c = counterOf(ksn);
      // Counters increase, skip exactly those with more than 10 one bits, and keys match.
      let expectC = prev + 1;
      while (popcount(expectC) > 10) expectC += expectC & -expectC;
      if (c !== expectC || !same(key, dukptTdesTxnKey(ipek, ksn))) bad = i;
      const [n] = i > 0 ? p.call('dtNextKsn', [], [o[2 * i - 1]!]) : [ksn];
      if (!same(n!, ksn)) bad = i;
      prev = c;
    }
    expect(bad).toBe(-1);
    expect(prev).toBeGreaterThan(2047); // passed 2047 (11 one bits), which was skipped
  });
});

describe('counter rules', () => {
  const ksn = Uint8Array.from(Buffer.from('FFFF9876543210E00000', 'hex'));
  const ipek = new Uint8Array(16).fill(0x11);

  test('next KSN after the last counter 0x1FF800 is exhaustion (ERROR_OVERFLOW)', async () => {
    const p = await paylib();
    expect(p.status('dtNextKsn', [], [withCounter(ksn, 0x1ff800)])).toBe(OVERFLOW);
    const [n] = p.call('dtNextKsn', [], [withCounter(ksn, 0x1ff7ff)]);
    expect(counterOf(n!)).toBe(0x1ff800);
    // From a counter with more than 10 one bits the next KSN skips ahead to a valid counter.
    const [m] = p.call('dtNextKsn', [], [withCounter(ksn, 0x0ffc00 - 1)]);
    expect(popcount(counterOf(m!))).toBeLessThanOrEqual(10);
  });

  test('counter 0 and counters with more than 10 one bits are refused', async () => {
    const p = await paylib();
    expect(p.status('dtTxnKey', [], [ipek, withCounter(ksn, 0)])).toBe(BAD_PARAMETERS);
    expect(p.status('dtTxnKey', [], [ipek, withCounter(ksn, 0x7ff)])).toBe(BAD_PARAMETERS);
    expect(p.status('dtTxnKey', [], [ipek, withCounter(ksn, 0x3ff)])).toBe(0);
  });

  test('wrong lengths answer BAD_PARAMETERS with a reason that holds no key', async () => {
    const p = await paylib();
    for (const [fn, args] of [['dtIpek', [new Uint8Array(24).fill(0xab), ksn]], ['dtIpek', [new Uint8Array(16).fill(0xab), ksn.subarray(0, 8)]], ['dtTxnKey', [new Uint8Array(8).fill(0xab), ksn]]] as const) {
      let err: PaylibError | null = null;
      try { p.call(fn, [], [...args]); } catch (e) { err = e as PaylibError; }
      expect(err?.status).toBe(BAD_PARAMETERS);
      expect(err!.message).not.toMatch(/AB{2}|ab{2}/i);
    }
  });
});
