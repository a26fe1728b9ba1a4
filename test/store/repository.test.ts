// The Repository contract, on the store the project runs (project `default`: SQLite; project
// `postgres`: PostgreSQL, TRUSTTAP_TEST_DB=postgres): each method's meaning, transactions and
// savepoints, and the single-use and compare-and-set steps under concurrency across two
// connections (two repositories on one database: two nodes, as far as the store can tell).
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_ACQUIRERS, DEFAULT_ACQUIRER, type Repository, type PaymentRow, type CardAccountRow } from '../../backend/store/repository.ts';
import { SqliteRepository, MIGRATIONS } from '../../backend/store/sqlite.ts';
import { PostgresRepository, PG_MIGRATIONS } from '../../backend/store/postgres.ts';
import Database from 'better-sqlite3';
import pg from 'pg';
import { freshDatabase } from '../helpers/postgres.ts';

const onPostgres = process.env.TRUSTTAP_TEST_DB === 'postgres';

/** Two connections to one fresh database. */
async function openPair(): Promise<[Repository, Repository]> {
  if (onPostgres) {
    const { inject } = await import('vitest');
    const url = await freshDatabase(inject('pgUrl'));
    return [await PostgresRepository.open(url), await PostgresRepository.open(url)];
  }
  const file = join(mkdtempSync(join(tmpdir(), 'tt-repo-')), 'backend.db');
  return [new SqliteRepository(file), new SqliteRepository(file)];
}

let r: Repository, other: Repository;
beforeAll(async () => { [r, other] = await openPair(); });
afterAll(async () => { await r?.close(); await other?.close(); });

const device = (id: string, acquirerId = DEFAULT_ACQUIRER) => ({ deviceId: id, acquirerId, merchantId: 'M-1', terminalId: id.slice(-8), activationHash: `h-${id}`, activationExpiresMs: 1000, createdMs: 5 });
const account = (panHash: string, balanceMinor: number): CardAccountRow => ({
  panHash, maskedPan: '622848******0017', scheme: 'unionpay', cvn: 'unionpay-01', imkId: 'imk', currency: '156', balanceMinor, status: 'active',
  expiry: '3012', pvv: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), pvkId: 'pvk', pinTries: 0, pinTryLimit: 3, lastAtc: -1,
});
const payment = (deviceId: string, ctid: string, accountDelta = -100): PaymentRow => ({
  deviceId, clientTransactionId: ctid, reference: `TT${ctid}`, recordSha256: 'ab', recordCounter: 1, type: 'purchase', amountMinor: 100, currency: '156',
  accountDelta, panHash: 'p', decision: 'approved', reason: 0, response: Uint8Array.of(9, 9), createdMs: 7, reversedMs: 0,
});

describe(`Repository on ${onPostgres ? 'PostgreSQL' : 'SQLite'}`, () => {
  test('devices: create, read by id, terminal and activation, update, list by state', async () => {
    await r.createDevice(device('dev-a0000001'));
    const d = (await r.getDevice('dev-a0000001'))!;
    expect(d).toMatchObject({ merchantId: 'M-1', terminalId: 'a0000001', state: 'registered', lastCounter: 0, attestationRequired: false, lastLatE6: null });
    expect(d.publicKey).toEqual(new Uint8Array(0));
    expect((await r.getDeviceByTerminal('M-1', 'a0000001'))?.deviceId).toBe('dev-a0000001');
    expect((await r.getDeviceByActivation('h-dev-a0000001'))?.deviceId).toBe('dev-a0000001');
    expect(await r.getDeviceByActivation('')).toBeNull();
    await r.updateDevice('dev-a0000001', { state: 'active', publicKey: Uint8Array.of(4, 1, 2), attestationRequired: true, lastLatE6: -33_000_000, lastCounter: 2 ** 52 });
    const u = (await other.getDevice('dev-a0000001'))!; // the other connection sees the commit
    expect(u).toMatchObject({ state: 'active', attestationRequired: true, lastLatE6: -33_000_000, lastCounter: 2 ** 52 });
    expect(u.publicKey).toEqual(Uint8Array.of(4, 1, 2));
    expect((await r.listDevices(['active'], ALL_ACQUIRERS)).map((x) => x.deviceId)).toContain('dev-a0000001');
    expect((await r.listDevices(['disabled'], ALL_ACQUIRERS)).map((x) => x.deviceId)).not.toContain('dev-a0000001');
    await expect(r.createDevice({ ...device('dev-a0000002'), terminalId: 'a0000001' })).rejects.toThrow(); // (merchant, terminal) is unique
    await expect(r.updateDevice('dev-a0000001', { nope: 1 } as any)).rejects.toThrow(/unknown device column/);
  });

  test('the request counter: compare-and-set, and with a contact time both in one statement', async () => {
    await r.createDevice(device('dev-a0000003'));
    expect(await r.advanceCounter('dev-a0000003', 10)).toBe(true);
    expect(await r.advanceCounter('dev-a0000003', 10)).toBe(false); // equal is a replay
    expect((await r.getDevice('dev-a0000003'))!).toMatchObject({ lastCounter: 10, lastContactMs: 0 });
    expect(await r.advanceCounter('dev-a0000003', 11, 777)).toBe(true);
    expect((await r.getDevice('dev-a0000003'))!).toMatchObject({ lastCounter: 11, lastContactMs: 777 });
    expect(await r.advanceCounter('dev-a0000003', 5, 999)).toBe(false); // refused: the contact time stays too
    expect((await r.getDevice('dev-a0000003'))!).toMatchObject({ lastCounter: 11, lastContactMs: 777 });
  });

  test('the request counter read with the record counter (an authorization\'s one statement): the same compare-and-set, and the row as it stands', async () => {
    await r.createDevice(device('dev-a0000004'));
    expect(await r.advanceCounterReadingRecord('dev-a0000004', 3, 50)).toEqual({ lastRecordCounter: 0 });
    expect(await r.advanceRecordCounter('dev-a0000004', 7)).toBe(true);
    expect(await r.advanceCounterReadingRecord('dev-a0000004', 3, 60)).toBeNull(); // equal is a replay
    expect(await r.advanceCounterReadingRecord('dev-a0000004', 2, 60)).toBeNull();
    expect((await r.getDevice('dev-a0000004'))!).toMatchObject({ lastCounter: 3, lastContactMs: 50 }); // nothing moved
    expect(await r.advanceCounterReadingRecord('dev-a0000004', 4, 70)).toEqual({ lastRecordCounter: 7 });
    expect((await r.getDevice('dev-a0000004'))!).toMatchObject({ lastCounter: 4, lastContactMs: 70 });
    // Inside a transaction it sees the transaction's own record-counter update.
    expect(await r.transaction(async () => {
      await r.advanceRecordCounter('dev-a0000004', 9);
      return r.advanceCounterReadingRecord('dev-a0000004', 5, 80);
    })).toEqual({ lastRecordCounter: 9 });
    expect(await r.advanceCounterReadingRecord('nobody', 1, 1)).toBeNull();
  });

  test('a transaction is all or nothing; a failing nested unit rolls back alone', async () => {
    await r.createDevice(device('dev-b0000001'));
    await expect(r.transaction(async () => {
      await r.appendHistory({ deviceId: 'dev-b0000001', timeMs: 1, kind: 'x', verdict: '', detail: 'gone', policyVersion: 0 });
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await r.history('dev-b0000001')).toEqual([]);
    const out = await r.transaction(async () => {
      await r.appendHistory({ deviceId: 'dev-b0000001', timeMs: 1, kind: 'x', verdict: '', detail: 'kept', policyVersion: 0 });
      await r.transaction(async () => {
        await r.appendHistory({ deviceId: 'dev-b0000001', timeMs: 2, kind: 'x', verdict: '', detail: 'inner, rolled back', policyVersion: 0 });
        throw new Error('inner');
      }).catch(() => undefined);
      return 42;
    });
    expect(out).toBe(42);
    expect((await r.history('dev-b0000001')).map((h) => h.detail)).toEqual(['kept']);
    // Units one after another and one inside another (a group commit's requests, each with its
    // own nested units): each rolls back alone, the rest commits.
    await r.transaction(async () => {
      for (const i of [1, 2, 3]) {
        await r.transaction(async () => {
          await r.appendHistory({ deviceId: 'dev-b0000001', timeMs: 10 + i, kind: 'x', verdict: '', detail: `unit ${i}`, policyVersion: 0 });
          await r.transaction(async () => {
            await r.appendHistory({ deviceId: 'dev-b0000001', timeMs: 20 + i, kind: 'x', verdict: '', detail: `inner ${i}`, policyVersion: 0 });
            if (i === 1) throw new Error('inner');
          }).catch(() => undefined);
          if (i === 2) throw new Error('unit');
        }).catch(() => undefined);
      }
    });
    expect((await r.history('dev-b0000001')).map((h) => h.detail)).toEqual(['kept', 'unit 1', 'unit 3', 'inner 3']);
  });

  test('work outside a transaction waits for it instead of joining it', async () => {
    await r.createDevice(device('dev-c0000001'));
    let release!: () => void;
    const gate = new Promise<void>((res) => { release = res; });
    const t = r.transaction(async () => {
      await r.appendHistory({ deviceId: 'dev-c0000001', timeMs: 1, kind: 'x', verdict: '', detail: 'in tx', policyVersion: 0 });
      await gate;
      throw new Error('rolled back');
    });
    // Issued while the transaction is open, from outside it: must not be rolled back with it.
    const outside = r.appendHistory({ deviceId: 'dev-c0000001', timeMs: 2, kind: 'x', verdict: '', detail: 'outside', policyVersion: 0 });
    await new Promise((res) => setTimeout(res, 20));
    release();
    await expect(t).rejects.toThrow('rolled back');
    await outside;
    expect((await r.history('dev-c0000001')).map((h) => h.detail)).toEqual(['outside']);
  });

  test('nonces, RKI sessions and notices are taken once', async () => {
    await r.putNonce({ nonce: 'n1', deviceId: 'd', activationHash: 'a', keyHash: 'k', expiresMs: 10 });
    expect(await r.takeNonce('n1')).toEqual({ nonce: 'n1', deviceId: 'd', activationHash: 'a', keyHash: 'k', expiresMs: 10 });
    expect(await r.takeNonce('n1')).toBeNull();
    await r.putNonce({ nonce: 'old', deviceId: 'd', activationHash: '', keyHash: '', expiresMs: 5 });
    expect(await r.purgeNonces(6)).toBe(1);
    await r.putRkiSession({ sessionId: 's1', deviceId: 'd', wrappedKeys: Uint8Array.of(1, 2), expiresMs: 9 });
    expect((await r.takeRkiSession('s1'))?.wrappedKeys).toEqual(Uint8Array.of(1, 2));
    expect(await r.takeRkiSession('s1')).toBeNull();
    const id1 = await r.addNotice({ deviceId: 'dn', type: 'THREAT_ALERT', reason: 'one', createdMs: 1, policyVersion: 3 });
    const id2 = await r.addNotice({ deviceId: 'dn', type: 'POLICY_UPDATE', reason: 'two', createdMs: 2, policyVersion: 3 });
    expect(id2).toBeGreaterThan(id1);
    expect((await r.takeNotices('dn')).map((n) => n.reason)).toEqual(['one', 'two']);
    expect(await r.takeNotices('dn')).toEqual([]);
  });

  test('policies, secrets (replace and insert-if-absent), payments, reversal, record counter', async () => {
    await r.putPolicy(DEFAULT_ACQUIRER, 1, Uint8Array.of(1), 1);
    await r.putPolicy(DEFAULT_ACQUIRER, 2, Uint8Array.of(2), 2);
    expect(await other.latestPolicy(DEFAULT_ACQUIRER)).toEqual({ version: 2, bytes: Uint8Array.of(2) });
    await r.putSecret('k', Uint8Array.of(1));
    await r.putSecret('k', Uint8Array.of(2));
    expect(await r.getSecret('k')).toEqual(Uint8Array.of(2));
    expect(await r.addSecret('k', Uint8Array.of(3))).toBe(false);
    expect(await r.addSecret('k2', Uint8Array.of(3))).toBe(true);
    expect(await other.getSecret('k2')).toEqual(Uint8Array.of(3));
    expect(await r.getSecret('none')).toBeNull();

    await r.createDevice(device('dev-d0000001'));
    await r.insertPayment(payment('dev-d0000001', 'c1'));
    expect(await r.getPayment('dev-d0000001', 'c1')).toEqual(payment('dev-d0000001', 'c1'));
    await expect(r.insertPayment(payment('dev-d0000001', 'c1'))).rejects.toThrow(); // the idempotency key is unique
    expect(await r.markReversed('dev-d0000001', 'c1', 99)).toBe(true);
    expect(await r.markReversed('dev-d0000001', 'c1', 100)).toBe(false);
    expect((await r.getPayment('dev-d0000001', 'c1'))?.reversedMs).toBe(99);
    expect(await r.lastRecordCounter('dev-d0000001')).toBe(0);
    expect(await r.advanceRecordCounter('dev-d0000001', 5)).toBe(true);
    expect(await r.advanceRecordCounter('dev-d0000001', 5)).toBe(false);
    expect(await r.lastRecordCounter('dev-d0000001')).toBe(5);
  });

  test('acquirers (issue 16 §1): the default one from the migration, tokens by hash, merchants claimed once, every scoped read', async () => {
    expect((await r.getAcquirer(DEFAULT_ACQUIRER))?.route).toBe('issuer-sim');
    expect((await r.getAcquirer(DEFAULT_ACQUIRER))?.upstreamUrl).toBe(''); // migration 9's default
    await r.putAcquirer({ acquirerId: 'acq-b', name: 'Bank B', adminTokenHash: 'th-b', route: 'issuer-sim', upstreamUrl: '', limits: '', createdMs: 3 });
    await r.putAcquirer({ acquirerId: 'acq-b', name: 'Bank B2', adminTokenHash: 'th-b2', route: 'upstream', upstreamUrl: 'http://issuer.example:9000/v1/authorize', limits: '[]', createdMs: 9 });
    expect(await other.getAcquirer('acq-b')).toEqual({ acquirerId: 'acq-b', name: 'Bank B2', adminTokenHash: 'th-b2', route: 'upstream', upstreamUrl: 'http://issuer.example:9000/v1/authorize', limits: '[]', createdMs: 3 });
    expect((await r.getAcquirerByToken('th-b2'))?.acquirerId).toBe('acq-b');
    expect(await r.getAcquirerByToken('th-b')).toBeNull();
    expect(await r.getAcquirerByToken('')).toBeNull(); // the default acquirer has no token: '' matches nothing
    expect((await r.listAcquirers()).map((x) => x.acquirerId)).toEqual(['acq-b', DEFAULT_ACQUIRER]);
    expect(await r.claimMerchant('M-B', 'acq-b')).toBe('acq-b');
    expect(await other.claimMerchant('M-B', DEFAULT_ACQUIRER)).toBe('acq-b'); // the first claim wins
    expect(await r.merchantAcquirer('M-B')).toBe('acq-b');
    expect(await r.merchantAcquirer('M-none')).toBeNull();

    await r.createDevice({ ...device('dev-t0000001'), merchantId: 'M-T' });
    await r.createDevice({ ...device('dev-t0000002', 'acq-b'), merchantId: 'M-B' });
    expect((await r.getDevice('dev-t0000002'))?.acquirerId).toBe('acq-b');
    expect(await r.getDevice('dev-t0000002', DEFAULT_ACQUIRER)).toBeNull();
    expect((await r.getDevice('dev-t0000002', 'acq-b'))?.deviceId).toBe('dev-t0000002');
    const ids = async (scope: string) => (await r.listDevices(undefined, scope)).map((x) => x.deviceId);
    expect(await ids('acq-b')).toEqual(['dev-t0000002']);
    expect(await ids(DEFAULT_ACQUIRER)).toContain('dev-t0000001');
    expect(await ids(DEFAULT_ACQUIRER)).not.toContain('dev-t0000002');
    expect(await ids(ALL_ACQUIRERS)).toEqual(expect.arrayContaining(['dev-t0000001', 'dev-t0000002']));

    await r.insertPayment({ ...payment('dev-t0000001', 'tp', -1), createdMs: 50_000 });
    await r.insertPayment({ ...payment('dev-t0000002', 'tp', -1), createdMs: 50_000 });
    const pays = async (scope: string) => (await r.searchPayments({ scope, clientTransactionId: 'tp' })).map((p) => p.deviceId).sort();
    expect(await pays('acq-b')).toEqual(['dev-t0000002']);
    expect(await pays(DEFAULT_ACQUIRER)).toEqual(['dev-t0000001']);
    expect(await pays(ALL_ACQUIRERS)).toEqual(['dev-t0000001', 'dev-t0000002']);
    const counted = async (scope: string) => (await r.paymentCounts(40_000, 60_000, 60_000, scope)).reduce((n, x) => n + x.n, 0);
    expect(await counted('acq-b')).toBe(1);
    expect(await counted(ALL_ACQUIRERS)).toBe(2);
    await r.appendHistory({ deviceId: 'dev-t0000002', timeMs: 50_000, kind: 'verdict', verdict: 'allow', detail: '', policyVersion: 1 });
    expect((await r.verdictCounts(40_000, 60_000, 60_000, 'acq-b')).map((x) => x.n)).toEqual([1]);
    expect(await r.verdictCounts(40_000, 60_000, 60_000, 'acq-none')).toEqual([]);
    await r.addNotice({ deviceId: 'dev-t0000002', type: 'THREAT_ALERT', reason: 'b', createdMs: 1, policyVersion: 1 });
    expect((await r.listNotices({ scope: 'acq-b' })).map((n) => n.deviceId)).toEqual(['dev-t0000002']);
    expect((await r.listNotices({ scope: DEFAULT_ACQUIRER })).map((n) => n.deviceId)).not.toContain('dev-t0000002');

    // Policy versions count per acquirer.
    await r.putPolicy('acq-b', 1, Uint8Array.of(7), 4);
    expect(await r.latestPolicy('acq-b')).toEqual({ version: 1, bytes: Uint8Array.of(7) });
    expect((await r.listPolicies('acq-b')).map((p) => p.version)).toEqual([1]);
    expect(await r.latestPolicy('acq-none')).toBeNull();
    expect(await other.policyVersions()).toEqual([{ acquirerId: 'acq-b', version: 1 }, { acquirerId: DEFAULT_ACQUIRER, version: 2 }]);

    await r.putOperator({ username: 'bob', acquirerId: 'acq-b', role: 'viewer', passwordHash: 'x', createdMs: 1, disabled: false });
    expect((await other.getOperator('bob'))?.acquirerId).toBe('acq-b');
    await r.putConsoleSession({ tokenHash: 'sess-b', username: 'bob', acquirerId: 'acq-b', role: 'viewer', createdMs: 1, expiresMs: 2 });
    expect((await other.getConsoleSession('sess-b'))?.acquirerId).toBe('acq-b');
  });

  test('migration 6 gives every existing device, merchant, operator and policy version to the default acquirer', async () => {
    // A database as the back end left it before tenants (migrations 1..5), with rows in it.
    const before = `
      INSERT INTO devices (device_id, merchant_id, terminal_id, state, created_ms) VALUES ('dev-old00001', 'M-OLD', 'T-OLD', 'active', 1);
      INSERT INTO policies (version, bytes, created_ms) VALUES (1, ${onPostgres ? "'\\x01'" : "x'01'"}, 1), (2, ${onPostgres ? "'\\x02'" : "x'02'"}, 2);
      INSERT INTO operators (username, role, password_hash, created_ms) VALUES ('olga', 'viewer', 'h', 1);`;
    let old: Repository;
    if (onPostgres) {
      const { inject } = await import('vitest');
      const url = await freshDatabase(inject('pgUrl'));
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)');
      for (const m of PG_MIGRATIONS.filter((x) => x.version <= 5)) {
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations VALUES ($1, $2, 0)', [m.version, m.name]);
      }
      await c.query(before);
      await c.end();
      old = await PostgresRepository.open(url);
    } else {
      const file = join(mkdtempSync(join(tmpdir(), 'tt-mig6-')), 'backend.db');
      const db = new Database(file);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
      for (const m of MIGRATIONS.filter((x) => x.version <= 5)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      db.exec(before);
      db.close();
      old = new SqliteRepository(file);
    }
    try {
      expect((await old.schemaStatus()).applied).toBeGreaterThanOrEqual(6);
      expect((await old.getDevice('dev-old00001', DEFAULT_ACQUIRER))?.acquirerId).toBe(DEFAULT_ACQUIRER);
      expect(await old.merchantAcquirer('M-OLD')).toBe(DEFAULT_ACQUIRER);
      expect(await old.latestPolicy(DEFAULT_ACQUIRER)).toEqual({ version: 2, bytes: Uint8Array.of(2) });
      expect((await old.getOperator('olga'))?.acquirerId).toBe(DEFAULT_ACQUIRER);
      expect((await old.listAcquirers()).map((x) => x.acquirerId)).toEqual([DEFAULT_ACQUIRER]);
      expect(await old.policyVersions()).toEqual([{ acquirerId: DEFAULT_ACQUIRER, version: 2 }]);
      await old.putPolicy('other', 1, Uint8Array.of(3), 3); // versions now count per acquirer
    } finally {
      await old.close();
    }
  });

  test('card accounts, ledger, QR orders, wallet sessions and codes', async () => {
    await r.putCardAccount(account('pan-1', 500));
    await r.updateCardAccount('pan-1', { balanceMinor: 400, lastAtc: 7, pinTries: 1 });
    expect(await r.getCardAccount('pan-1')).toEqual({ ...account('pan-1', 400), lastAtc: 7, pinTries: 1 });
    await r.addAccountMovement({ panHash: 'pan-1', reference: 'R1', deltaMinor: -100, kind: 'purchase', timeMs: 3 });
    expect(await r.accountMovements('pan-1')).toEqual([{ reference: 'R1', deltaMinor: -100, kind: 'purchase', timeMs: 3 }]);
    const order = { deviceId: 'dq', clientTransactionId: 'q1', reference: 'QR1', payload: 'p', amountMinor: 5, currency: '156', state: 'pending' as const, createdMs: 1, expiresMs: 2, updatedMs: 1, payerHash: '' };
    await r.insertQrOrder(order);
    expect(await r.getQrOrderByReference('QR1')).toEqual(order);
    expect(await r.setQrOrderState('dq', 'q1', 'pending', 'paid', 5, 'payer')).toBe(true);
    expect(await r.setQrOrderState('dq', 'q1', 'pending', 'cancelled', 6)).toBe(false);
    expect(await r.getQrOrder('dq', 'q1')).toMatchObject({ state: 'paid', updatedMs: 5, payerHash: 'payer' });
    await r.putWalletSession('t1', 'acct', 50);
    expect(await r.getWalletSession('t1')).toEqual({ accountHash: 'acct', expiresMs: 50 });
    await r.putWalletCode({ codeHash: 'c1', accountHash: 'acct', cryptogram: 'AB', expiresMs: 60 });
    expect(await r.useWalletCode('c1', 10)).toBe(true);
    expect(await r.useWalletCode('c1', 11)).toBe(false);
    expect(await r.getWalletCode('c1')).toEqual({ codeHash: 'c1', accountHash: 'acct', cryptogram: 'AB', expiresMs: 60, usedMs: 10 });
  });

  test('an acquirer\'s own PIN verification values (issue 16 §1): insert if absent, read per acquirer and card', async () => {
    const pvv = Uint8Array.of(8, 7, 6, 5, 4, 3, 2, 1);
    expect(await r.addIssuerPvv('bank-x', 'pan-9', 'acq.bank-x.pvk', pvv)).toBe(true);
    expect(await r.addIssuerPvv('bank-x', 'pan-9', 'acq.bank-x.pvk-2', Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0))).toBe(false); // the first stays
    expect(await r.getIssuerPvv('bank-x', 'pan-9')).toEqual({ pvkId: 'acq.bank-x.pvk', pvv });
    expect(await r.getIssuerPvv('bank-y', 'pan-9')).toBeNull();
    expect(await r.getIssuerPvv('bank-x', 'pan-8')).toBeNull();
    expect(await other.getIssuerPvv('bank-x', 'pan-9')).toEqual({ pvkId: 'acq.bank-x.pvk', pvv });
  });
});

// Concurrency: on PostgreSQL across two connections (two nodes, as far as the database can tell) —
// the database decides, not a lock in this process. SQLite is one process's file on one connection
// (a second connection in the same process would wait for the lock on the event loop's thread), so
// there the racers share the connection and its transaction queue.
describe(`concurrent clients (${onPostgres ? 'PostgreSQL, two connections' : 'SQLite, one connection'})`, () => {
  const N = 20;
  const both = <T>(f: (repo: Repository, i: number) => Promise<T>) => Promise.all(Array.from({ length: N }, (_, i) => f(i % 2 && onPostgres ? other : r, i)));

  test('a device counter is accepted once per value: exactly one of the racers wins each step', async () => {
    await r.createDevice(device('dev-e0000001'));
    for (let step = 1; step <= 5; step++) {
      const wins = (await both((repo) => repo.transaction(() => repo.advanceCounter('dev-e0000001', step * 10)))).filter(Boolean).length;
      expect(wins).toBe(1);
    }
    expect((await r.getDevice('dev-e0000001'))!.lastCounter).toBe(50);
  });

  test('… and read with the record counter, likewise', async () => {
    await r.createDevice(device('dev-e0000002'));
    for (let step = 1; step <= 5; step++) {
      const wins = (await both((repo) => repo.transaction(() => repo.advanceCounterReadingRecord('dev-e0000002', step * 10, step)))).filter(Boolean);
      expect(wins).toEqual([{ lastRecordCounter: 0 }]);
    }
    expect((await r.getDevice('dev-e0000002'))!).toMatchObject({ lastCounter: 50, lastContactMs: 5 });
  });

  test('a nonce is taken by exactly one of the racers', async () => {
    for (let k = 0; k < 5; k++) {
      await r.putNonce({ nonce: `race-${k}`, deviceId: 'd', activationHash: '', keyHash: '', expiresMs: 1 });
      const got = (await both((repo) => repo.transaction(() => repo.takeNonce(`race-${k}`)))).filter(Boolean).length;
      expect(got).toBe(1);
    }
  });

  test('an idempotency key journals once: racers check, then insert, in one transaction each', async () => {
    await r.createDevice(device('dev-f0000001'));
    const results = await both((repo, i) => repo.transaction(async () => {
      const old = await repo.getPayment('dev-f0000001', 'same-ctid');
      if (old) return `existing ${old.reference}`;
      await repo.insertPayment({ ...payment('dev-f0000001', 'same-ctid'), reference: `R${i}` });
      return `inserted R${i}`;
    }));
    const inserted = results.filter((x) => x.startsWith('inserted'));
    expect(inserted).toHaveLength(1);
    // Every racer that lost saw the winner's row (its retry or its wait found it).
    const winner = inserted[0].slice('inserted '.length);
    expect(results.filter((x) => x === `existing ${winner}`)).toHaveLength(N - 1);
  });

  test('ledger updates are not lost: read-modify-write debits and an ATC per debit, from two connections', async () => {
    await r.putCardAccount(account('pan-race', 10_000));
    const approved = await both((repo, i) => repo.transaction(async () => {
      const a = (await repo.getCardAccount('pan-race'))!;
      const atc = i + 1;
      if (atc <= a.lastAtc) return false; // the ATC check reads what the others committed
      await repo.updateCardAccount('pan-race', { balanceMinor: a.balanceMinor - 100, lastAtc: Math.max(a.lastAtc, atc) });
      await repo.addAccountMovement({ panHash: 'pan-race', reference: `R${i}`, deltaMinor: -100, kind: 'purchase', timeMs: i });
      return true;
    }));
    const n = approved.filter(Boolean).length;
    expect(n).toBeGreaterThan(0);
    const a = (await other.getCardAccount('pan-race'))!;
    const moves = await other.accountMovements('pan-race');
    expect(moves).toHaveLength(n);
    expect(a.balanceMinor).toBe(10_000 - 100 * n); // the balance and the ledger agree: no update lost
  });
});
