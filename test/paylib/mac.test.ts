// ISO 9797-1 MACs and CMAC in ta/lib against independent implementations (node:crypto DES/TDES,
// @noble/ciphers AES-CMAC) on random inputs; error paths answer a status, never trap.
import { describe, expect, test } from 'vitest';
import { paylib, PaylibError } from '../as/paylib-host.ts';
import { rng, cbcMacTdes, retailMac, tdesCmac, aesCmac, isoPad } from './ref.ts';

const N = 10_000;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const BAD_PARAMETERS = 0xffff0006 | 0;

describe('ISO 9797-1 and CMAC agree with independent implementations', () => {
  test(`padding methods 1-3 (${N} random)`, async () => {
    const p = await paylib();
    const r = rng(1);
    let bad = -1;
    for (let i = 0; i < N && bad < 0; i++) {
      const m = 1 + r.int(3), bl = r.pick([4, 8, 16]), d = r.bytes(r.int(40));
      if (!same(p.call('padData', [m, bl], [d])[0]!, isoPad(d, m, bl))) bad = i;
    }
    expect(bad).toBe(-1);
  });

  test(`MAC algorithm 1, DES/TDES keys (${N} random)`, async () => {
    const p = await paylib();
    const r = rng(2);
    let bad = -1;
    for (let i = 0; i < N && bad < 0; i++) {
      const k = r.bytes(r.pick([8, 16, 24])), d = r.bytes(r.int(70)), m = 1 + r.int(3);
      if (!same(p.call('mac1', [0, m], [k, d])[0]!, cbcMacTdes(k, d, m))) bad = i;
    }
    expect(bad).toBe(-1);
  });

  test(`MAC algorithm 3 / X9.19 retail MAC, single-DES and TDES keys (${N} random)`, async () => {
    const p = await paylib();
    const r = rng(3);
    let bad = -1;
    for (let i = 0; i < N && bad < 0; i++) {
      const len = r.pick([8, 8, 16, 24]);
      const k1 = r.bytes(len), k2 = r.bytes(len), d = r.bytes(r.int(70)), m = 1 + r.int(3);
      const got = len === 8 && r.int(2) === 0
        ? p.call('retail', [m], [Uint8Array.from([...k1, ...k2]), d])[0]!
        : p.call('mac3', [m], [k1, k2, d])[0]!;
      if (!same(got, retailMac(k1, k2, d, m))) bad = i;
    }
    expect(bad).toBe(-1);
  });

  test(`AES-CMAC vs @noble/ciphers (${N} random)`, async () => {
    const p = await paylib();
    const r = rng(4);
    let bad = -1;
    for (let i = 0; i < N && bad < 0; i++) {
      const k = r.bytes(r.pick([16, 24, 32])), d = r.bytes(r.int(80));
      if (!same(p.call('cmacOf', [1], [k, d])[0]!, aesCmac(k, d))) bad = i;
    }
    expect(bad).toBe(-1);
  });

  test(`TDES-CMAC vs a written-out SP 800-38B (${N} random)`, async () => {
    const p = await paylib();
    const r = rng(5);
    let bad = -1;
    for (let i = 0; i < N && bad < 0; i++) {
      const k = r.bytes(r.pick([16, 24])), d = r.bytes(r.int(50));
      if (!same(p.call('cmacOf', [0], [k, d])[0]!, tdesCmac(k, d))) bad = i;
    }
    expect(bad).toBe(-1);
  });
});

describe('bad input answers a typed status and a reason without key material', () => {
  const cases: [string, string, number[], Uint8Array[]][] = [
    ['padding method 4', 'padData', [4, 8], [new Uint8Array(3)]],
    ['block length 0', 'padData', [1, 0], [new Uint8Array(3)]],
    ['7-byte DES key', 'mac1', [0, 1], [new Uint8Array(7).fill(0xab), new Uint8Array(8)]],
    ['AES key of 20 bytes', 'mac1', [1, 1], [new Uint8Array(20).fill(0xab), new Uint8Array(8)]],
    ['retail key of 24 bytes', 'retail', [1], [new Uint8Array(24).fill(0xab), new Uint8Array(8)]],
    ['alg 3 key of 12 bytes', 'mac3', [1], [new Uint8Array(12).fill(0xab), new Uint8Array(8).fill(0xab), new Uint8Array(8)]],
  ];
  for (const [name, fn, ints, args] of cases) {
    test(name, async () => {
      const p = await paylib();
      let err: PaylibError | null = null;
      try { p.call(fn, ints, args); } catch (e) { err = e as PaylibError; }
      expect(err).toBeInstanceOf(PaylibError);
      expect(err!.status).toBe(BAD_PARAMETERS);
      expect(err!.reason.length).toBeGreaterThan(10);
      expect(err!.message).not.toMatch(/ABAB|abab/);
    });
  }
});

describe('cmac() checks its inputs and leaves no intermediate block behind', () => {
  test('a block length that is not the cipher\'s is refused, not computed under the wrong Rb', async () => {
    const p = await paylib();
    const k = unhexKey('2B7E151628AED2A6ABF7158809CF4F3C');
    expect(p.status('cmacRaw', [1, 16], [k, new Uint8Array(20)])).toBe(0);
    for (const [aes, bl] of [[1, 8], [0, 16], [1, 0], [0, 0], [1, 12]] as const) {
      expect(p.status('cmacRaw', [aes, bl], [k, new Uint8Array(20)])).not.toBe(0);
    }
  });

  test('the CBC chain and the subkey-masked last block are wiped (memory scan)', async () => {
    const { createCipheriv } = await import('node:crypto');
    const p = await paylib();
    const k = unhexKey('2B7E151628AED2A6ABF7158809CF4F3C');
    const msg = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff); // 2 full blocks + 8 bytes
    // chain = CBC-MAC of the first two blocks; its first bytes are what a missed wipe leaves.
    const c = createCipheriv('aes-128-cbc', k, Buffer.alloc(16)).setAutoPadding(false);
    const body = Buffer.concat([c.update(msg.subarray(0, 32)), c.final()]);
    const chain = body.subarray(16, 32);
    // last = padded tail XOR K2 XOR chain (SP 800-38B), K2 = dbl(dbl(AES_K(0^128))).
    const e = createCipheriv('aes-128-ecb', k, null).setAutoPadding(false);
    const dbl = (b: Uint8Array) => { const o = new Uint8Array(16); for (let i = 0; i < 16; i++) o[i] = ((b[i]! << 1) | ((b[i + 1] ?? 0) >> 7)) & 0xff; if (b[0]! & 0x80) o[15]! ^= 0x87; return o; };
    const k2 = dbl(dbl(e.update(Buffer.alloc(16))));
    const tail = new Uint8Array(16); tail.set(msg.subarray(32)); tail[8] = 0x80;
    const last = Buffer.from(tail.map((t, i) => t ^ k2[i]! ^ chain[i]!));
    expect(same(p.call('cmacOf', [1], [k, msg])[0]!, aesCmac(k, msg))).toBe(true);
    const mem = Buffer.from(p.exports.memory.buffer as ArrayBuffer);
    expect(mem.indexOf(chain)).toBe(-1);
    expect(mem.indexOf(body)).toBe(-1);
    expect(mem.indexOf(last)).toBe(-1);
  });
});

function unhexKey(h: string): Uint8Array { return Uint8Array.from(Buffer.from(h, 'hex')); }
