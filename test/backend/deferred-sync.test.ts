// The HTTP server's durability with deferred sync (backend/store/sqlite.ts): a COMMIT no longer
// waits for the disk, so every answer must wait for repo.sync() — which fdatasyncs the WAL and
// covers every commit made before it — and a failed fdatasync stops all acknowledgements.
import { test, expect, afterAll, vi } from 'vitest';
import { mkdtempSync, copyFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRepository, CHECKPOINT_EVERY, FALLBACK_AUTOCHECKPOINT } from '../../backend/store/sqlite.ts';
import { startTestBackend, type Backend } from './harness.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'tt-sync-'));
const history = (repo: SqliteRepository, i: number) => repo.transaction(() => repo.appendHistory({ deviceId: 'd', timeMs: i, kind: 'k', verdict: '', detail: '', policyVersion: 0 }));
const settled = async (p: Promise<unknown>) => { let done = false; p.then(() => { done = true; }, () => { done = true; }); await new Promise((r) => setImmediate(r)); return done; };

let be: Backend | undefined;
afterAll(async () => { await be?.close(); });

test('default: synchronous=FULL, each COMMIT is on disk when it returns, sync() has nothing to wait for', async () => {
  const repo = new SqliteRepository(join(dir(), 'db'));
  try {
    expect(repo.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    await history(repo, 1);
    expect(await settled(repo.sync())).toBe(true);
  } finally {
    await repo.close();
  }
});

test('deferred: synchronous=NORMAL; sync() after a commit waits for an fdatasync that covers every commit before it', async () => {
  const repo = new SqliteRepository(join(dir(), 'db'), { deferredSync: true });
  try {
    expect(repo.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL: COMMIT does not fsync
    await history(repo, 1);
    await history(repo, 2);
    const first = repo.sync();
    expect(repo.sync()).toBe(first); // one fdatasync covers both commits
    await history(repo, 3);
    const second = repo.sync();
    expect(second).not.toBe(first); // a commit after the fdatasync began needs another
    await Promise.all([first, second]);
    expect(await settled(repo.sync())).toBe(true); // nothing new: resolved at once
  } finally {
    await repo.close();
  }
});

test('deferred: a failed fdatasync refuses every later sync() (nothing more is acknowledged)', async () => {
  const repo = new SqliteRepository(join(dir(), 'db'), { deferredSync: true });
  try {
    await history(repo, 1);
    await repo.sync();
    await history(repo, 2);
    (repo as unknown as { walFd: number }).walFd = 2 ** 30; // not an open file: fstat/fdatasync fail
    await expect(repo.sync()).rejects.toThrow(/restart the back end/);
    await expect(repo.sync()).rejects.toThrow(/restart the back end/);
  } finally {
    (repo as unknown as { walFd: number | null }).walFd = null;
    await repo.close();
  }
});

test('the HTTP server answers only after sync() resolves, and /readyz fails once sync() cannot be promised', async () => {
  be = await startTestBackend();
  const repo = be.service.repo;
  const real = repo.sync.bind(repo);
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  repo.sync = () => gate.then(real);
  try {
    let answered = false;
    const r = fetch(`${be.url}/v1/admin/devices/none`, { headers: { authorization: `Bearer ${be.adminToken}` } }).then((x) => { answered = true; return x; });
    await new Promise((res) => setTimeout(res, 300));
    expect(answered).toBe(false);
    open();
    expect((await r).status).toBe(404);
    repo.sync = () => Promise.reject(new Error('fdatasync of backend.db-wal failed: EIO; restart the back end'));
    const ready = await fetch(`${be.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await ready.json()).reason).toMatch(/EIO/);
    expect((await fetch(`${be.url}/v1/keys`)).status).toBe(500); // no answer that is not durable
  } finally {
    repo.sync = real;
  }
});

// Issue 13 §4: with deferred sync, WAL checkpoints run in a worker thread (backend/store/
// checkpointer.mjs) every CHECKPOINT_EVERY commits; the main connection's own checkpoint waits
// until FALLBACK_AUTOCHECKPOINT frames. Seen from the database file alone: after the worker's
// checkpoint it holds the rows, although the WAL is far below either automatic threshold.
test('deferred: the worker thread checkpoints the WAL into the database file; the main connection does not', async () => {
  const d = dir();
  const path = join(d, 'db');
  const rowsInDatabaseFile = () => {
    // A copy of the database file without its WAL: only what checkpoints have copied into it.
    const copy = join(d, `copy-${Math.random().toString(36).slice(2)}`);
    copyFileSync(path, copy);
    const db = new Database(copy, { readonly: true });
    try {
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'history'").get()) return 0; // not even the schema yet
      return (db.prepare("SELECT count(*) AS n FROM history WHERE device_id = 'd'").get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  const repo = new SqliteRepository(path, { deferredSync: true });
  try {
    expect(repo.db.pragma('wal_autocheckpoint', { simple: true })).toBe(FALLBACK_AUTOCHECKPOINT);
    for (let i = 0; i < CHECKPOINT_EVERY - 1; i++) await history(repo, i);
    await repo.sync();
    expect(repo.checkpoints.done).toBe(0);
    expect(rowsInDatabaseFile()).toBe(0); // still only in the WAL
    await history(repo, CHECKPOINT_EVERY);
    await vi.waitFor(() => expect(repo.checkpoints.done).toBe(1), { timeout: 30_000, interval: 20 });
    expect(repo.checkpoints.failure).toBe('');
    expect(rowsInDatabaseFile()).toBe(CHECKPOINT_EVERY);
    // The WAL restarts once a checkpoint has caught up: later commits still read back whole.
    for (let i = 0; i < CHECKPOINT_EVERY; i++) await history(repo, 1000 + i);
    await repo.sync();
    await vi.waitFor(() => expect(repo.checkpoints.done).toBe(2), { timeout: 30_000, interval: 20 });
    expect((repo.db.prepare("SELECT count(*) AS n FROM history WHERE device_id = 'd'").get() as { n: number }).n).toBe(2 * CHECKPOINT_EVERY);
  } finally {
    await repo.close();
  }
  // Closed: the worker is gone and the database opens whole.
  const again = new SqliteRepository(path);
  try {
    expect((again.db.prepare("SELECT count(*) AS n FROM history WHERE device_id = 'd'").get() as { n: number }).n).toBe(2 * CHECKPOINT_EVERY);
  } finally {
    await again.close();
  }
}, 60_000);

test('not deferred: no worker, SQLite\'s own automatic checkpoint', async () => {
  const repo = new SqliteRepository(join(dir(), 'db'));
  try {
    expect(repo.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    for (let i = 0; i < CHECKPOINT_EVERY; i++) await history(repo, i);
    expect(repo.checkpoints.done).toBe(0);
  } finally {
    await repo.close();
  }
});
