import { test, expect, describe } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SealedStorage, StorageError } from '../../tee/storage/sealed.ts';
import { atomicFaults } from '../../tee/storage/atomic.ts';
import { Huk } from '../../tee/huk.ts';
import { rpmbFor } from '../../tee/services.ts';
import { Status } from '../../proto/status.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const uuidA = new Uint8Array(16).fill(0xa);
const uuidB = new Uint8Array(16).fill(0xb);

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), 'tt-sealed-'));
  const huk = Huk.fromBytes(new Uint8Array(32).fill(7));
  return { dir, huk, store: open(dir, uuidA, huk) };
}

/** A TA's sealed storage with the TEE core's client of the simulated RPMB at dir/rpmb.img. */
function open(dir: string, uuid: Uint8Array, huk: Huk) {
  return new SealedStorage(dir, uuid, huk, rpmbFor({ storageDir: dir, huk }));
}

function statusOf(fn: () => unknown): number | null {
  try { fn(); return null; } catch (e) { return e instanceof StorageError ? e.status : -1; }
}

describe('sealed storage', () => {
  test('round trip, overwrite, list, delete', () => {
    const { store } = fresh();
    store.write(enc('a'), enc('one'));
    store.write(enc('a'), enc('two'));
    store.write(enc('b'), enc('x'));
    expect(new TextDecoder().decode(store.read(enc('a'))!)).toBe('two');
    expect(store.list().map((x) => new TextDecoder().decode(x))).toEqual(['a', 'b']);
    expect(store.delete(enc('a'))).toBe(true);
    expect(store.read(enc('a'))).toBeNull();
    expect(store.delete(enc('a'))).toBe(false);
  });

  test('the blob on disk holds no plaintext', () => {
    const { dir, store } = fresh();
    const secret = enc('0123456789ABCDEF-very-secret');
    store.write(enc('k'), secret);
    const objDir = join(dir, Buffer.from(uuidA).toString('hex'), 'objects');
    for (const f of readdirSync(objDir)) expect(Buffer.from(readFileSync(join(objDir, f))).includes(Buffer.from(secret))).toBe(false);
  });

  test('another TA identity or another HUK cannot read the objects', () => {
    const { dir, huk, store } = fresh();
    store.write(enc('k'), enc('v'));
    expect(open(dir, uuidB, huk).read(enc('k'))).toBeNull();
    // Same TA, different device key: the RPMB's answers do not carry this TEE's MAC.
    expect(statusOf(() => open(dir, uuidA, Huk.fromBytes(new Uint8Array(32).fill(8))).read(enc('k')))).toBe(Status.ERROR_SECURITY);
  });

  test('a crash before the rename leaves the old value; a crash between blob and counter is recovered', () => {
    const { dir, huk, store } = fresh();
    store.write(enc('k'), enc('old'));
    atomicFaults.beforeRename = () => { throw new Error('power cut'); };
    try {
      expect(() => store.write(enc('k'), enc('new'))).toThrow('power cut');
    } finally {
      atomicFaults.beforeRename = undefined;
    }
    const reopened = open(dir, uuidA, huk);
    expect(new TextDecoder().decode(reopened.read(enc('k'))!)).toBe('old');
    // Crash after the blob rename but before the counter write: the blob is one version ahead.
    let n = 0;
    atomicFaults.beforeRename = (p) => { if (p.endsWith('rpmb.img') && n++ === 0) throw new Error('power cut'); };
    try {
      expect(() => reopened.write(enc('k'), enc('newer'))).toThrow('power cut');
    } finally {
      atomicFaults.beforeRename = undefined;
    }
    const again = open(dir, uuidA, huk);
    expect(new TextDecoder().decode(again.read(enc('k'))!)).toBe('newer');
    again.write(enc('k'), enc('newest'));
    expect(new TextDecoder().decode(again.read(enc('k'))!)).toBe('newest');
  });

  test('replayed blob is SECURITY, altered blob CORRUPT_OBJECT, an RPMB set back or of another key SECURITY; other objects unaffected', () => {
    const { dir, huk, store } = fresh();
    const objDir = join(dir, Buffer.from(uuidA).toString('hex'), 'objects');
    const path = (id: string) => join(objDir, `${Buffer.from(id).toString('hex')}.blob`);
    store.write(enc('r'), enc('v1'));
    const v1 = readFileSync(path('r'));
    store.write(enc('r'), enc('v2'));
    store.write(enc('ok'), enc('fine'));
    writeFileSync(path('r'), v1);
    expect(statusOf(() => store.read(enc('r')))).toBe(Status.ERROR_SECURITY);
    store.write(enc('t'), enc('tamper-me'));
    const t = readFileSync(path('t'));
    t[t.length - 1] ^= 1;
    writeFileSync(path('t'), t);
    expect(statusOf(() => store.read(enc('t')))).toBe(Status.ERROR_CORRUPT_OBJECT);
    expect(new TextDecoder().decode(store.read(enc('ok'))!)).toBe('fine');
    // The RPMB image alone set back (an older copy of the device file): the objects are now
    // more than one version ahead of their counters.
    const image = join(dir, 'rpmb.img');
    const oldImage = readFileSync(image);
    store.write(enc('ok'), enc('fine again'));
    store.write(enc('ok'), enc('fine once more'));
    writeFileSync(image, oldImage);
    expect(statusOf(() => open(dir, uuidA, huk).read(enc('ok')))).toBe(Status.ERROR_SECURITY);
    // A different key programmed into the image (another device's RPMB): no answer verifies.
    const other = Buffer.from(readFileSync(image));
    other[9] ^= 1;
    writeFileSync(image, other);
    expect(statusOf(() => open(dir, uuidA, huk).read(enc('ok')))).toBe(Status.ERROR_SECURITY);
    expect(existsSync(image)).toBe(true);
  });

  test('object ids are bounded', () => {
    const { store } = fresh();
    expect(statusOf(() => store.write(new Uint8Array(0), enc('x')))).toBe(Status.ERROR_BAD_PARAMETERS);
    expect(statusOf(() => store.write(new Uint8Array(65), enc('x')))).toBe(Status.ERROR_BAD_PARAMETERS);
  });
});
