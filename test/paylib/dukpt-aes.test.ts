// AES DUKPT (ANSI X9.24-3:2017) in ta/lib against an independent derivation from the BDK
// (test/paylib/ref.ts on @noble/ciphers), and the counter rules. No key in names or messages.
import { describe, expect, test } from 'vitest';
import { paylib, load, ascii } from '../as/paylib-host.ts';
import { rng, dukptAesInitialKey, dukptAesDerivationKey, dukptAesWorkingKey, format4Encipher, aesCmac, aesCbc } from './ref.ts';

const N = 10_000;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const OVERFLOW = 0xffff300f | 0;
const BAD_PARAMETERS = 0xffff0006 | 0;
const KEY = { TDES2: 0, TDES3: 1, AES128: 2, AES192: 3, AES256: 4 };
const LEN: Record<number, number> = { 0: 16, 1: 24, 2: 16, 3: 24, 4: 32 };
const popcount = (x: number) => { let n = 0; for (x >>>= 0; x; x = (x & (x - 1)) >>> 0) n++; return n; };
const ksnOf = (ikid: Uint8Array, c: number) => { const k = new Uint8Array(12); k.set(ikid); new DataView(k.buffer).setUint32(8, c >>> 0); return k; };
const counterOf = (ksn: Uint8Array) => new DataView(ksn.buffer, ksn.byteOffset).getUint32(8);

function randomCounter(r: ReturnType<typeof rng>): number {
  const bits = 1 + r.int(16);
  let c = 0;
  while (popcount(c) < bits) c = (c | (2 ** r.int(32))) >>> 0;
  return c;
}

describe('AES DUKPT agrees with an independent derivation from the BDK', () => {
  test(`initial key, derivation key, PIN key and format-4 encipherment (${N} random)`, async () => {
    const p = await paylib();
    const r = rng(21);
    let bad = -1;
    for (let i = 0; i < N && bad < 0; i++) {
      const bdk = r.bytes(r.pick([16, 24, 32]));
      const ikid = r.bytes(8);
      const ksn = ksnOf(ikid, randomCounter(r));
      const pinType = r.pick([KEY.AES128, KEY.AES192, KEY.AES256].filter((t) => LEN[t]! <= bdk.length));
      const pinField = r.bytes(16), panField = r.bytes(16);
      const [ik] = p.call('daInitialKey', [], [bdk, ikid]);
      const [dk] = p.call('daDerivationKey', [], [ik!, ksn]);
      const [enc] = p.call('daPin', [pinType], [ik!, ksn, pinField, panField]);
      const rik = dukptAesInitialKey(bdk, ikid);
      const rdk = dukptAesDerivationKey(rik, ksn);
      const rpk = dukptAesWorkingKey(rdk, ksn, 0x1000, pinType);
      if (!same(ik!, rik) || !same(dk!, rdk) || !same(enc!, format4Encipher(rpk, pinField, panField))) bad = i;
    }
    expect(bad).toBe(-1);
  });

  test('working keys of every usage and type, CMAC request/response, data request/response (1,000 random)', async () => {
    const p = await paylib();
    const r = rng(22);
    const usages = [0x0002, 0x1000, 0x2000, 0x2001, 0x2002, 0x3000, 0x3001, 0x3002];
    let bad = -1;
    for (let i = 0; i < 1000 && bad < 0; i++) {
      const ik = r.bytes(r.pick([16, 24, 32]));
      const ksn = ksnOf(r.bytes(8), randomCounter(r));
      const [dk] = p.call('daDerivationKey', [], [ik, ksn]);
      const types = [0, 1, 2, 3, 4].filter((t) => LEN[t]! <= ik.length);
      const usage = r.pick(usages), type = r.pick(types);
      const [wk] = p.call('daWorkingKey', [usage, type], [dk!, ksn]);
      if (!same(wk!, dukptAesWorkingKey(dk!, ksn, usage, type))) bad = i;
      const aes = r.pick(types.filter((t) => t >= 2));
      const msg = r.bytes(r.int(60)), data = r.bytes(16 * (1 + r.int(3))), iv = r.bytes(16);
      for (const resp of [0, 1]) {
        const [m] = p.call('daMac', [aes, resp], [dk!, ksn, msg]);
        if (!same(m!, aesCmac(dukptAesWorkingKey(dk!, ksn, resp ? 0x2001 : 0x2000, aes), msg))) bad = i;
        const [c] = p.call('daData', [aes, resp, 0], [dk!, ksn, data, iv]);
        if (!same(c!, aesCbc(dukptAesWorkingKey(dk!, ksn, resp ? 0x3001 : 0x3000, aes), data, iv))) bad = i;
        const [back] = p.call('daData', [aes, resp, 1], [dk!, ksn, c!, iv]);
        if (!same(back!, data)) bad = i;
      }
    }
    expect(bad).toBe(-1);
  });

  test('PIN block decipherment inverts encipherment (1,000 random)', async () => {
    const p = await paylib();
    const r = rng(23);
    let bad = -1;
    for (let i = 0; i < 1000 && bad < 0; i++) {
      const k = r.bytes(r.pick([16, 24, 32])), pin = r.bytes(16), pan = r.bytes(16);
      const [back] = p.call('daPinDecrypt', [], [k, format4Encipher(k, pin, pan), pan]);
      if (!same(back!, pin)) bad = i;
    }
    expect(bad).toBe(-1);
  });

  test('the PAN field the harness encodes is ISO 9564-1 format 4 (12-digit and 19-digit PANs)', async () => {
    const p = await paylib();
    expect(Buffer.from(p.call('iso4PanField', [], [ascii('4111111111111111')])[0]!).toString('hex')).toBe('44111111111111111000000000000000');
    expect(Buffer.from(p.call('iso4PanField', [], [ascii('123456789012')])[0]!).toString('hex')).toBe('01234567890120000000000000000000');
    expect(Buffer.from(p.call('iso4PanField', [], [ascii('1234567890123456789')])[0]!).toString('hex')).toBe('71234567890123456789000000000000');
  });
});

describe('counter rules and update keys', () => {
  const ikid = Uint8Array.from(Buffer.from('1234567890123456', 'hex'));
  const ik = Uint8Array.from(Buffer.from('1273671EA26AC29AFA4D1084127652A1', 'hex'));

  test('next KSN skips counters with more than 16 one bits; exhausted after 0xFFFF0000', async () => {
    const p = await paylib();
    const [a] = p.call('daNextKsn', [], [ksnOf(ikid, 0x0000ffff)]);
    expect(counterOf(a!)).toBe(0x00010000);
    const [b] = p.call('daNextKsn', [], [ksnOf(ikid, 0x0001fffe)]);
    expect(counterOf(b!)).toBe(0x00020000); // 0x1FFFF has 17 one bits
    const [c] = p.call('daNextKsn', [], [ksnOf(ikid, 0xfffe8000)]);
    expect(counterOf(c!)).toBe(0xffff0000);
    expect(p.status('daNextKsn', [], [ksnOf(ikid, 0xffff0000)])).toBe(OVERFLOW);
    // Every KSN it produces over a run is valid and strictly increasing.
    let k: Uint8Array = ksnOf(ikid, 0x00fff000);
    for (let i = 0; i < 2000; i++) {
      const [n] = p.call('daNextKsn', [], [k]);
      expect(popcount(counterOf(n!)) <= 16 && counterOf(n!) > counterOf(k)).toBe(true);
      k = n!;
    }
  });

  test('counter 0 and 17 one bits are refused; a working key longer than its derivation key is refused', async () => {
    const p = await paylib();
    expect(p.status('daDerivationKey', [], [ik, ksnOf(ikid, 0)])).toBe(BAD_PARAMETERS);
    expect(p.status('daDerivationKey', [], [ik, ksnOf(ikid, 0x1ffff)])).toBe(BAD_PARAMETERS);
    const [dk] = p.call('daDerivationKey', [], [ik, ksnOf(ikid, 1)]);
    expect(p.status('daWorkingKey', [0x1000, KEY.AES256], [dk!, ksnOf(ikid, 1)])).toBe(BAD_PARAMETERS);
    expect(p.status('daWorkingKey', [0x8000, KEY.AES128], [dk!, ksnOf(ikid, 1)])).toBe(BAD_PARAMETERS);
    expect(p.status('daUpdateKey', [KEY.AES256], [ik, ikid])).toBe(BAD_PARAMETERS);
    expect(p.status('daInitialKey', [], [new Uint8Array(20), ikid])).toBe(BAD_PARAMETERS);
  });

  test('update key equals the KEK-usage key of counter 0xFFFFFFFF from an independent derivation', async () => {
    const p = await paylib();
    const r = rng(24);
    for (let i = 0; i < 50; i++) {
      const k = r.bytes(r.pick([16, 24, 32])), id = r.bytes(8);
      const type = r.pick([2, 3, 4].filter((t) => LEN[t]! <= k.length));
      const ksn = ksnOf(id, 0xffffffff);
      const [u] = p.call('daUpdateKey', [type], [k, id]);
      expect(same(u!, dukptAesWorkingKey(dukptAesDerivationKey(k, ksn), ksn, 0x0002, type))).toBe(true);
    }
  });

  // The derivation runs in static buffers (no allocation per step): each intermediate key, the
  // PIN key and the first CBC block E(K, PIN field) must be gone from TA memory afterwards.
  test('the PIN path leaves no intermediate key, PIN key or CBC block in TA memory (memory scan)', async () => {
    for (const [ikLen, type] of [[16, KEY.AES128], [32, KEY.AES256], [32, KEY.AES128]] as const) {
      const p = await load();
      const r = rng(23 + ikLen + type);
      const ik = r.bytes(ikLen), id = r.bytes(8);
      const counter = 0x00a5a5a5 >>> 0;
      const ksn = ksnOf(id, counter);
      const pinField = r.bytes(16), panField = r.bytes(16);
      const [enc] = p.call('daPin', [type], [ik, ksn, pinField, panField]);
      const secrets: Uint8Array[] = [];
      let prefix = 0;
      for (let bit = 31; bit >= 0; bit--) {
        if (!((counter >>> bit) & 1)) continue;
        prefix = (prefix | (1 << bit)) >>> 0;
        secrets.push(dukptAesDerivationKey(ik, ksnOf(id, prefix)));
      }
      const pinKey = dukptAesWorkingKey(secrets[secrets.length - 1]!, ksn, 0x1000, type);
      secrets.push(pinKey, aesCbc(pinKey, pinField, new Uint8Array(16)));
      expect(same(enc!, format4Encipher(pinKey, pinField, panField))).toBe(true);
      const mem = Buffer.from(p.exports.memory.buffer as ArrayBuffer);
      // Whole keys, and their first 16 bytes (a derived block left in the work buffer).
      expect(secrets.map((s) => mem.indexOf(Buffer.from(s.subarray(0, 16))))).toEqual(secrets.map(() => -1));
    }
  });

  // Speed is measured by `npm run bench` (test/bench/keystore.bench.ts), never asserted here.
  test('the worst-case counter (16 one bits) repeated 2000 times gives the reference PIN block every time', async () => {
    const p = await paylib();
    const ksn = ksnOf(ikid, 0xffff0000);
    const pinField = Uint8Array.from({ length: 16 }, (_, i) => i), panField = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 ^ i);
    const [last] = p.call('daPinLoop', [KEY.AES128, 2000], [ik, ksn, pinField, panField]);
    const rpk = dukptAesWorkingKey(dukptAesDerivationKey(ik, ksn), ksn, 0x1000, KEY.AES128);
    expect(same(last!, format4Encipher(rpk, pinField, panField))).toBe(true);
  });
});
