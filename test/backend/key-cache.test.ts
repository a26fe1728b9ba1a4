// The software HSM's cache of unwrapped keys (backend/hsm/key-cache.ts): when it asks the store
// again and when it does not, that it hands out copies, that a key which does not unwrap is never
// cached, and that the HSM forgets what it writes (backend/hsm/software-hsm.ts).
import { describe, test, expect, beforeEach } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyCache, ADD_ONLY } from '../../backend/hsm/key-cache.ts';
import { SoftwareHsm } from '../../backend/hsm/software-hsm.ts';
import { SqliteRepository } from '../../backend/store/sqlite.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'tt-keycache-'));

/** The store seen through a counter of reads, as one node (shared = false) or one of several. */
function counted(repo: SqliteRepository, shared: boolean) {
  const view = { shared, reads: 0, getSecret: (id: string) => { view.reads++; return repo.getSecret(id); } };
  return view;
}

describe('KeyCache', () => {
  let repo: SqliteRepository;
  let unwraps: string[];
  // The stored form here is the key with every byte + 1; 0xff anywhere "does not decrypt".
  const unwrap = (id: string, w: Uint8Array) => {
    unwraps.push(id);
    if (w.includes(0xff)) throw new Error(`secret ${id}: does not decrypt`);
    return w.map((b) => b - 1);
  };
  const stored = (...key: number[]) => Uint8Array.from(key, (b) => b + 1);
  beforeEach(() => { repo = new SqliteRepository(':memory:'); unwraps = []; });

  test('one process owning the store: unwrapped once, absences kept too, until forget()', async () => {
    const v = counted(repo, false);
    const c = new KeyCache(v, unwrap);
    await repo.putSecret('imk/a', stored(1, 2, 3));
    expect(await c.get('imk/a')).toEqual(Uint8Array.of(1, 2, 3));
    expect(await c.get('imk/a')).toEqual(Uint8Array.of(1, 2, 3));
    expect(await c.has('imk/a')).toBe(true);
    expect([v.reads, unwraps.length]).toEqual([1, 1]);
    expect(await c.get('bdk/none')).toBeNull();
    expect(await c.has('bdk/none')).toBe(false);
    expect(v.reads).toBe(2);
    // The HSM writes through forget(): the next use reads the new key.
    await repo.putSecret('imk/a', stored(9));
    await repo.putSecret('bdk/none', stored(7));
    c.forget('imk/a');
    c.forget('bdk/none');
    expect(await c.get('imk/a')).toEqual(Uint8Array.of(9));
    expect(await c.get('bdk/none')).toEqual(Uint8Array.of(7));
    expect(v.reads).toBe(4);
  });

  test('get() hands out a copy: wiping it after an operation leaves the cached key whole', async () => {
    const c = new KeyCache(counted(repo, false), unwrap);
    await repo.putSecret('bdk/x', stored(5, 6));
    const k = (await c.get('bdk/x'))!;
    k.fill(0);
    expect(await c.get('bdk/x')).toEqual(Uint8Array.of(5, 6));
  });

  test('a shared store: add-only keys stay, other keys and absences are read again, re-unwrapped only when changed', async () => {
    const v = counted(repo, true);
    const c = new KeyCache(v, unwrap);
    for (const p of ADD_ONLY) await repo.addSecret(`${p}k`, stored(1));
    for (const p of ADD_ONLY) { await c.get(`${p}k`); await c.get(`${p}k`); await c.has(`${p}k`); }
    expect([v.reads, unwraps.length]).toEqual([ADD_ONLY.length, ADD_ONLY.length]);

    // An issuer master key another node may replace (putSecret): read each time, unwrapped once.
    v.reads = 0; unwraps = [];
    await repo.putSecret('imk/i', stored(1));
    expect(await c.get('imk/i')).toEqual(Uint8Array.of(1));
    expect(await c.get('imk/i')).toEqual(Uint8Array.of(1));
    expect([v.reads, unwraps.length]).toEqual([2, 1]);
    await repo.putSecret('imk/i', stored(2)); // another node's import: no forget() here
    expect(await c.get('imk/i')).toEqual(Uint8Array.of(2));
    expect([v.reads, unwraps.length]).toEqual([3, 2]);

    // An absence is asked again: another node may create the key meanwhile.
    expect(await c.has('bdk/later')).toBe(false);
    await repo.addSecret('bdk/later', stored(3));
    expect(await c.get('bdk/later')).toEqual(Uint8Array.of(3));
  });

  test('a key that does not unwrap is not cached: every use fails the same way', async () => {
    const v = counted(repo, false);
    const c = new KeyCache(v, unwrap);
    await repo.putSecret('bdk/bad', Uint8Array.of(0xff));
    await expect(c.get('bdk/bad')).rejects.toThrow(/does not decrypt/);
    await expect(c.has('bdk/bad')).rejects.toThrow(/does not decrypt/);
    expect(v.reads).toBe(2);
  });
});

describe('SoftwareHsm over the cache', () => {
  test('what the HSM stores, it sees at once (a BDK, an issuer key, a PIN verification key)', async () => {
    const d = dir();
    const repo = new SqliteRepository(join(d, 'backend.db'));
    const hsm = await SoftwareHsm.open(join(d, 'hsm'), repo);
    expect(await hsm.hasBdk('b1')).toBe(false);
    const kcv = await hsm.generateBdk('b1');
    expect(kcv.length).toBe(5);
    expect(await hsm.hasBdk('b1')).toBe(true);
    await expect(hsm.generateBdk('b1')).rejects.toThrow(/exists/);
    expect(await hsm.hasIssuerMasterKey('i1', 'sm4')).toBe(false);
    await hsm.importIssuerMasterKey('i1', new Uint8Array(16).fill(1), 'sm4');
    expect(await hsm.hasIssuerMasterKey('i1', 'sm4')).toBe(true);
    expect(await hsm.hasIssuerMasterKey('i1')).toBe(false);
    await hsm.ensurePinVerificationKey('p1');
    const pvv = await hsm.pinVerificationValue('p1', '6228480000000000017', '1234');
    expect(await hsm.pinVerificationValue('p1', '6228480000000000017', '1234')).toEqual(pvv);
    // A second HSM on the same file (a restart) reads the same keys from the store.
    const again = await SoftwareHsm.open(join(d, 'hsm'), repo);
    expect(await again.pinVerificationValue('p1', '6228480000000000017', '1234')).toEqual(pvv);
    await repo.close();
  });

  test('a stored key moved to another id does not unwrap (the id is the associated data), cached or not', async () => {
    const d = dir();
    const repo = new SqliteRepository(join(d, 'backend.db'));
    const hsm = await SoftwareHsm.open(join(d, 'hsm'), repo);
    await hsm.ensurePinVerificationKey('p1');
    await repo.addSecret('pvk/p2', (await repo.getSecret('pvk/p1'))!);
    await expect(hsm.pinVerificationValue('p2', '6228480000000000017', '1234')).rejects.toThrow(/does not decrypt under the master key/);
    await expect(hsm.pinVerificationValue('p2', '6228480000000000017', '1234')).rejects.toThrow(/does not decrypt under the master key/);
    await repo.close();
  });
});
