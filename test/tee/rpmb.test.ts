// The simulated RPMB device (tee/storage/rpmb.ts) speaks JEDEC eMMC 5.1 §6.6.22 frames: writes
// only with the right MAC and the device's current write counter, reads answered with the
// caller's nonce under the MAC, the key programmed once; the TEE's client refuses answers that
// are forged or replayed. Slots (rpmb-slots.ts) keep each TA's table apart.
import { test, expect, describe } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { SimulatedRpmb, RpmbClient, RpmbError, encodeFrame, decodeFrame, frameMac, Req, Result, FRAME, BLOCK } from '../../tee/storage/rpmb.ts';
import { RpmbSlots } from '../../tee/storage/rpmb-slots.ts';

const key = new Uint8Array(32).fill(0x5a);
const device = () => new SimulatedRpmb(join(mkdtempSync(join(tmpdir(), 'tt-rpmb-')), 'rpmb.img'));
const block = (b: number) => new Uint8Array(BLOCK).fill(b);

describe('simulated RPMB device', () => {
  test('frame layout: MAC at 196, data at 228, HMAC-SHA256 over bytes 228..511', () => {
    const f = encodeFrame({ type: Req.WRITE, data: block(7), nonce: new Uint8Array(16).fill(1), counter: 3, address: 2, count: 1 });
    expect(f.length).toBe(FRAME);
    expect([f[228], f[483], f[484], f[503], f[505], f[507], f[511]]).toEqual([7, 7, 1, 3, 2, 1, 3]);
    expect(Buffer.from(frameMac(key, [f]))).toEqual(createHmac('sha256', key).update(f.subarray(228, 512)).digest());
    expect(decodeFrame(f)).toMatchObject({ counter: 3, address: 2, count: 1, type: Req.WRITE });
  });

  test('the key is programmed once; writes need its MAC and the current write counter', () => {
    const dev = device();
    const c = new RpmbClient(dev, key);
    expect(c.writeCounter()).toBe(0);
    const again = decodeFrame(dev.exchange(encodeFrame({ type: Req.PROGRAM_KEY, mac: new Uint8Array(32).fill(1) })));
    expect(again.result).toBe(Result.WRITE_FAILURE);
    c.write(4, block(1));
    c.write(4, block(2));
    expect(c.writeCounter()).toBe(2);
    expect(c.read(4, 1)).toEqual(block(2));
    // A write MACed with another key: refused, nothing written, the counter unchanged.
    const forged = encodeFrame({ type: Req.WRITE, counter: 2, address: 4, count: 1, data: block(9) });
    forged.set(frameMac(new Uint8Array(32).fill(1), [forged]), 196);
    expect(decodeFrame(dev.exchange(forged)).result).toBe(Result.AUTH_FAILURE);
    // A correctly MACed write at an old counter (a replayed write frame): refused.
    const stale = encodeFrame({ type: Req.WRITE, counter: 1, address: 4, count: 1, data: block(9) });
    stale.set(frameMac(key, [stale]), 196);
    expect(decodeFrame(dev.exchange(stale)).result).toBe(Result.COUNTER_FAILURE);
    expect(c.read(4, 1)).toEqual(block(2));
    expect(c.writeCounter()).toBe(2);
    // Out of the partition.
    expect(() => c.write(511, new Uint8Array(2 * BLOCK))).toThrow(RpmbError);
  });

  test('the client refuses a replayed or forged answer', () => {
    const dev = device();
    const c = new RpmbClient(dev, key);
    c.write(0, block(1));
    let recorded: Uint8Array | null = null;
    const recorder = { exchange: (r: Uint8Array) => { const a = dev.exchange(r); if (decodeFrame(r).type === Req.READ) recorded = a; return a; } };
    new RpmbClient(recorder, key).read(0, 1);
    c.write(0, block(2));
    const replayer = { exchange: (r: Uint8Array) => (decodeFrame(r).type === Req.READ ? recorded! : dev.exchange(r)) };
    expect(() => new RpmbClient(replayer, key).read(0, 1)).toThrow(/nonce/);
    expect(() => new RpmbClient(dev, new Uint8Array(32).fill(3)).read(0, 1)).toThrow(/MAC/);
  });

  test('slots keep TAs apart and survive a reopen', () => {
    const dev = device();
    const a = new RpmbSlots(new RpmbClient(dev, key)), b = new RpmbSlots(new RpmbClient(dev, key));
    const ua = new Uint8Array(16).fill(0xa), ub = new Uint8Array(16).fill(0xb);
    a.write(ua, new TextEncoder().encode('a-table'));
    b.write(ub, new Uint8Array(600).fill(0xbb));
    a.write(ua, new TextEncoder().encode('a-table-2'));
    const fresh = new RpmbSlots(new RpmbClient(dev, key));
    expect(new TextDecoder().decode(fresh.read(ua)!)).toBe('a-table-2');
    expect(fresh.read(ub)).toEqual(new Uint8Array(600).fill(0xbb));
    expect(fresh.read(new Uint8Array(16).fill(0xc))).toBeNull();
    expect(fresh.readCore()).toBeNull();
    fresh.writeCore(Uint8Array.of(1, 2, 3));
    expect(a.readCore()).toEqual(Uint8Array.of(1, 2, 3));
  });

  // A TEE start reads the version floors (slot 0): one authenticated round trip, not a probe for
  // the key, then block 0, then block 0 again. First boot still programs the key on the way.
  test('reading slot 0 costs one round trip once the key is programmed; first boot programs it', () => {
    const dev = device();
    const seen: number[] = [];
    const counting = { exchange: (req: Uint8Array) => { seen.push(decodeFrame(req).type); return dev.exchange(req); } };
    expect(new RpmbSlots(new RpmbClient(counting, key)).readCore()).toBeNull();
    expect(seen).toEqual([Req.READ, Req.PROGRAM_KEY, Req.READ]);
    new RpmbSlots(new RpmbClient(dev, key)).writeCore(Uint8Array.of(4, 5));
    seen.length = 0;
    expect(new RpmbSlots(new RpmbClient(counting, key)).readCore()).toEqual(Uint8Array.of(4, 5));
    expect(seen).toEqual([Req.READ]);
  });

  test('a device that claims "key not programmed" after it was programmed gets a refusal, not a new key', () => {
    const dev = device();
    new RpmbClient(dev, key).writeCounter();
    const liar = {
      exchange: (req: Uint8Array) => decodeFrame(req).type === Req.READ
        ? encodeFrame({ type: Req.READ << 8, result: Result.KEY_NOT_PROGRAMMED })
        : dev.exchange(req),
    };
    const other = new Uint8Array(32).fill(0x77);
    expect(() => new RpmbClient(liar, other).read(0, 1)).toThrow(expect.objectContaining({ result: Result.WRITE_FAILURE }));
    expect(() => new RpmbClient(dev, other).writeCounter()).toThrow(RpmbError);
  });
});
