// The embedded store: SQLite through better-sqlite3 12, WAL journal, synchronous=FULL (a commit
// is on disk before the HTTP answer goes out, so an acknowledged record survives kill -9 and
// power loss), numbered migrations recorded in schema_migrations and applied in a transaction.
//
// Deferred sync (`deferredSync`, what the HTTP server uses): COMMIT writes its WAL frames
// without waiting for the disk (synchronous=NORMAL), and sync() fdatasyncs the WAL file on the
// libuv thread pool; the server answers only once sync() has resolved. The WAL is appended in
// commit order and an fdatasync covers every frame written before it, so each answer still
// waits for its own commit — and every commit it read from — to be on disk, exactly as with
// synchronous=FULL, while the event loop computes the next group of requests instead of
// blocking in fsync. (A checkpoint still syncs the WAL before copying it into the database
// file and syncs the database file after, as in NORMAL mode.) Checkpoints then run in a worker
// thread (./checkpointer.mjs, PASSIVE: never waiting for nor blocking the writer) every
// CHECKPOINT_EVERY commits, so that copying frames and those two fsyncs leave the event loop too;
// the main connection's own automatic checkpoint stays as the fallback at FALLBACK_AUTOCHECKPOINT
// frames (reached only if commits keep arriving during every one of the worker's checkpoints, so
// that the WAL never restarts), and takes over at SQLite's default if the worker fails.
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { mkdirSync, openSync, closeSync, fstatSync, fdatasync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  Repository, DeviceRow, NonceRow, HistoryRow, NoticeRow, RkiSessionRow, DeviceStateName, PaymentRow, CardAccountRow,
  QrOrderRow, QrOrderStateName, WalletCodeRow, OperatorRow, ConsoleSessionRow, DeviceSignalsRow, PaymentSearch, NoticeSearch, VerdictName,
  AcquirerRow, Scope, ClientReleaseRow,
} from './repository.ts';
import { ALL_ACQUIRERS } from './repository.ts';
import { DEVICE_COLUMNS as COLS, toDevice, toQrOrder, toPayment, toCardAccount, toOperator, toConsoleSession, toAcquirer, toClientRelease, ACCOUNT_COLUMNS } from './rows.ts';

/** A row of a table with a device_id column that belongs to the scope's acquirer (one parameter). */
const IN_SCOPE = 'device_id IN (SELECT device_id FROM devices WHERE acquirer_id = ?)';

/** Deferred sync: the worker checkpoints after this many commits (~10 WAL frames each in a group commit of authorizations). */
export const CHECKPOINT_EVERY = 64;
/** Deferred sync: the main connection's own automatic checkpoint, in WAL frames (SQLite's default is 1,000). */
export const FALLBACK_AUTOCHECKPOINT = 10_000;

/** Migrations in order; never edit one that has shipped — append a new one. */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'devices, nonces, history, notices, policies, rki sessions, secrets',
    sql: `
      CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('registered','active','suspended','disabled')),
        state_reason TEXT NOT NULL DEFAULT '',
        activation_hash TEXT NOT NULL DEFAULT '',
        activation_expires_ms INTEGER NOT NULL DEFAULT 0,
        public_key BLOB NOT NULL DEFAULT x'',
        oem_serial TEXT NOT NULL DEFAULT '',
        last_counter INTEGER NOT NULL DEFAULT 0,
        last_contact_ms INTEGER NOT NULL DEFAULT 0,
        last_heartbeat_ms INTEGER NOT NULL DEFAULT 0,
        last_attestation_ms INTEGER NOT NULL DEFAULT 0,
        last_verdict TEXT NOT NULL DEFAULT '',
        attestation_required INTEGER NOT NULL DEFAULT 0,
        ree_device_id TEXT NOT NULL DEFAULT '',
        last_ip TEXT NOT NULL DEFAULT '',
        last_lat_e6 INTEGER,
        last_lon_e6 INTEGER,
        created_ms INTEGER NOT NULL,
        UNIQUE (merchant_id, terminal_id)
      );
      CREATE INDEX devices_activation ON devices (activation_hash) WHERE activation_hash <> '';
      CREATE TABLE nonces (
        nonce TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        activation_hash TEXT NOT NULL DEFAULT '',
        key_hash TEXT NOT NULL DEFAULT '',
        expires_ms INTEGER NOT NULL
      );
      CREATE TABLE history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        verdict TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        policy_version INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX history_device ON history (device_id, id);
      CREATE TABLE notices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL,
        type TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_ms INTEGER NOT NULL,
        policy_version INTEGER NOT NULL DEFAULT 0,
        delivered INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX notices_pending ON notices (device_id) WHERE delivered = 0;
      CREATE TABLE policies (
        version INTEGER PRIMARY KEY,
        bytes BLOB NOT NULL,
        created_ms INTEGER NOT NULL
      );
      CREATE TABLE rki_sessions (
        session_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        wrapped_keys BLOB NOT NULL,
        expires_ms INTEGER NOT NULL
      );
      CREATE TABLE secrets (
        id TEXT PRIMARY KEY,
        wrapped BLOB NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'payments journal, txsign record counter per device, simulated issuer accounts and ledger',
    sql: `
      -- One row per (device, client transaction id); WITHOUT ROWID: the key is the table, so a
      -- journal row is one b-tree write (fewer pages per fsync'd commit).
      CREATE TABLE payments (
        device_id TEXT NOT NULL,
        client_transaction_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        record_sha256 TEXT NOT NULL,
        record_counter INTEGER NOT NULL,
        type TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        currency TEXT NOT NULL,
        account_delta INTEGER NOT NULL DEFAULT 0,
        pan_hash TEXT NOT NULL DEFAULT '',
        decision TEXT NOT NULL CHECK (decision IN ('approved','declined')),
        reason INTEGER NOT NULL DEFAULT 0,
        response BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        reversed_ms INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (device_id, client_transaction_id)
      ) WITHOUT ROWID;
      -- The txsign record counter sits in the device row the request updates anyway.
      ALTER TABLE devices ADD COLUMN last_record_counter INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE card_accounts (
        pan_hash TEXT PRIMARY KEY,
        masked_pan TEXT NOT NULL,
        scheme TEXT NOT NULL,
        cvn TEXT NOT NULL,
        imk_id TEXT NOT NULL,
        currency TEXT NOT NULL,
        balance_minor INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active','blocked')),
        expiry TEXT NOT NULL,
        pvv BLOB NOT NULL,
        pvk_id TEXT NOT NULL,
        pin_tries INTEGER NOT NULL DEFAULT 0,
        pin_try_limit INTEGER NOT NULL DEFAULT 3,
        last_atc INTEGER NOT NULL DEFAULT -1
      );
      CREATE TABLE account_movements (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        pan_hash TEXT NOT NULL,
        reference TEXT NOT NULL,
        delta_minor INTEGER NOT NULL,
        kind TEXT NOT NULL,
        time_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'QR payments: merchant-presented orders, wallet sessions and one-time consumer payment codes',
    sql: `
      CREATE TABLE qr_orders (
        device_id TEXT NOT NULL,
        client_transaction_id TEXT NOT NULL,
        reference TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL,
        amount_minor INTEGER NOT NULL,
        currency TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending','paid','declined','expired','cancelled')),
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        payer_hash TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (device_id, client_transaction_id)
      ) WITHOUT ROWID;
      -- Wallet tokens and payment codes are kept as SHA-256 only.
      CREATE TABLE wallet_sessions (
        token_hash TEXT PRIMARY KEY,
        account_hash TEXT NOT NULL,
        expires_ms INTEGER NOT NULL
      );
      CREATE TABLE wallet_codes (
        code_hash TEXT PRIMARY KEY,
        account_hash TEXT NOT NULL,
        cryptogram TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        used_ms INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 4,
    name: 'operators\' console: operator accounts, console sessions, device signal history, journal and history indexes',
    sql: `
      CREATE TABLE operators (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('viewer','operator')),
        password_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
      );
      -- The session cookie's token as SHA-256 only.
      CREATE TABLE console_sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer','operator','admin')),
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
      );
      CREATE TABLE device_signals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        device_id TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        source TEXT NOT NULL,
        ip TEXT NOT NULL DEFAULT '',
        lat_e6 INTEGER,
        lon_e6 INTEGER,
        signals TEXT NOT NULL DEFAULT '{}',
        measurements TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX device_signals_device ON device_signals (device_id, id);
      CREATE INDEX payments_created ON payments (created_ms);
      CREATE INDEX payments_reference ON payments (reference);
      CREATE INDEX history_verdicts ON history (time_ms) WHERE kind = 'verdict';
    `,
  },
  {
    version: 5,
    name: 'witnessed TEE counters (issue 17 §1)',
    sql: `
      -- Counters the device's TEE keeps and the back end sees (DUKPT KSN counters per initial key,
      -- the RPMB write counter, the pinpad entry epoch): a restored device storage sets them back.
      CREATE TABLE device_counters (
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        name TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (device_id, name)
      ) WITHOUT ROWID;
      CREATE INDEX payments_by_record_counter ON payments (device_id, record_counter);
    `,
  },
  {
    version: 6,
    name: 'acquirers as tenants (issue 16 §1): acquirers, merchants, the acquirer of devices, operators, sessions and policies',
    sql: `
      -- Every row that existed belongs to the acquirer that existed: 'default'.
      CREATE TABLE acquirers (
        acquirer_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        admin_token_hash TEXT NOT NULL DEFAULT '',
        route TEXT NOT NULL DEFAULT 'issuer-sim',
        limits TEXT NOT NULL DEFAULT '',
        created_ms INTEGER NOT NULL
      );
      CREATE INDEX acquirers_token ON acquirers (admin_token_hash) WHERE admin_token_hash <> '';
      INSERT INTO acquirers (acquirer_id, name, created_ms) VALUES ('default', 'default', 0);
      CREATE TABLE merchants (
        merchant_id TEXT PRIMARY KEY,
        acquirer_id TEXT NOT NULL REFERENCES acquirers(acquirer_id)
      ) WITHOUT ROWID;
      INSERT INTO merchants (merchant_id, acquirer_id) SELECT DISTINCT merchant_id, 'default' FROM devices;
      ALTER TABLE devices ADD COLUMN acquirer_id TEXT NOT NULL DEFAULT 'default';
      CREATE INDEX devices_acquirer ON devices (acquirer_id);
      ALTER TABLE operators ADD COLUMN acquirer_id TEXT NOT NULL DEFAULT 'default';
      ALTER TABLE console_sessions ADD COLUMN acquirer_id TEXT NOT NULL DEFAULT 'default';
      -- Policy versions count per acquirer: the key becomes (acquirer, version).
      CREATE TABLE policies_by_acquirer (
        acquirer_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (acquirer_id, version)
      );
      INSERT INTO policies_by_acquirer (acquirer_id, version, bytes, created_ms) SELECT 'default', version, bytes, created_ms FROM policies;
      DROP TABLE policies;
      ALTER TABLE policies_by_acquirer RENAME TO policies;
    `,
  },
  {
    version: 7,
    name: 'client releases each acquirer allows (issue 16 §2)',
    sql: `
      -- The REE client releases each acquirer allows (issue 16 §2): name, version and the SHA-256
      -- its evidence must carry; a device is checked against its own acquirer's (devices.acquirer_id).
      CREATE TABLE client_releases (
        acquirer_id TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        allowed INTEGER NOT NULL,
        allowed_ms INTEGER NOT NULL,
        revoked_ms INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (acquirer_id, name, version)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    name: 'issuer keys per acquirer (issue 16 §1): each acquirer\'s simulated issuer keeps its own PIN verification values',
    sql: `
      -- The PVV of a card under the acquirer's own PIN verification key (acq.<id>.pvk-issuer-sim);
      -- the default acquirer's stays in card_accounts (pvv, pvk_id) as before.
      CREATE TABLE issuer_pvvs (
        acquirer_id TEXT NOT NULL,
        pan_hash TEXT NOT NULL,
        pvk_id TEXT NOT NULL,
        pvv BLOB NOT NULL,
        PRIMARY KEY (acquirer_id, pan_hash)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    name: 'an upstream authorization route per acquirer (issue 16 §1): its URL',
    sql: `
      -- The URL the acquirer's authorizations are POSTed to when its route is 'upstream'.
      ALTER TABLE acquirers ADD COLUMN upstream_url TEXT NOT NULL DEFAULT '';
    `,
  },
];

export interface SqliteOptions {
  /** 'FULL' (default): durable across power loss; 'NORMAL': durable across process crashes only. */
  synchronous?: 'FULL' | 'NORMAL';
  /** With 'FULL': COMMIT returns before its fsync, and sync() resolves once every commit made so
   * far is on disk. Whoever acknowledges must await sync() first (the HTTP server does). */
  deferredSync?: boolean;
}

export class SqliteRepository implements Repository {
  /** One process owns the file (group commit in the HTTP server). */
  readonly shared = false;
  readonly db: Db;
  private readonly st: Record<string, Statement>;
  /** Prepared statements of dynamically built SQL (column subsets of updates), by text. */
  private readonly dyn = new Map<string, Statement>();

  private cached(sql: string): Statement {
    let s = this.dyn.get(sql);
    if (!s) { s = this.db.prepare(sql); this.dyn.set(sql, s); }
    return s;
  }

  constructor(path: string, opts: SqliteOptions = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 5000 });
    this.db.pragma('journal_mode = WAL');
    this.deferred = (opts.synchronous ?? 'FULL') === 'FULL' && !!opts.deferredSync && path !== ':memory:';
    this.walPath = `${path}-wal`;
    this.db.pragma(`synchronous = ${this.deferred ? 'NORMAL' : opts.synchronous ?? 'FULL'}`);
    this.path = path;
    if (this.deferred) this.db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT}`);
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      insertDevice: p(`INSERT INTO devices (device_id, acquirer_id, merchant_id, terminal_id, state, activation_hash, activation_expires_ms, created_ms)
                       VALUES (?, ?, ?, ?, 'registered', ?, ?, ?)`),
      getDevice: p('SELECT * FROM devices WHERE device_id = ?'),
      getDeviceIn: p('SELECT * FROM devices WHERE device_id = ? AND acquirer_id = ?'),
      byTerminal: p('SELECT * FROM devices WHERE merchant_id = ? AND terminal_id = ?'),
      byActivation: p("SELECT * FROM devices WHERE activation_hash = ? AND activation_hash <> ''"),
      advance: p('UPDATE devices SET last_counter = ? WHERE device_id = ? AND last_counter < ?'),
      advanceContact: p('UPDATE devices SET last_counter = ?, last_contact_ms = ? WHERE device_id = ? AND last_counter < ?'),
      advanceContactReading: p('UPDATE devices SET last_counter = ?, last_contact_ms = ? WHERE device_id = ? AND last_counter < ? RETURNING last_record_counter AS c'),
      putNonce: p('INSERT INTO nonces (nonce, device_id, activation_hash, key_hash, expires_ms) VALUES (?, ?, ?, ?, ?)'),
      getNonce: p('SELECT * FROM nonces WHERE nonce = ?'),
      delNonce: p('DELETE FROM nonces WHERE nonce = ?'),
      purgeNonces: p('DELETE FROM nonces WHERE expires_ms < ?'),
      history: p('INSERT INTO history (device_id, time_ms, kind, verdict, detail, policy_version) VALUES (?, ?, ?, ?, ?, ?)'),
      listHistory: p('SELECT * FROM history WHERE device_id = ? ORDER BY id DESC LIMIT ?'),
      notice: p('INSERT INTO notices (device_id, type, reason, created_ms, policy_version) VALUES (?, ?, ?, ?, ?)'),
      pending: p('SELECT * FROM notices WHERE device_id = ? AND delivered = 0 ORDER BY id'),
      deliver: p('UPDATE notices SET delivered = 1 WHERE device_id = ? AND delivered = 0 AND id <= ?'),
      putPolicy: p('INSERT INTO policies (acquirer_id, version, bytes, created_ms) VALUES (?, ?, ?, ?)'),
      latestPolicy: p('SELECT version, bytes FROM policies WHERE acquirer_id = ? ORDER BY version DESC LIMIT 1'),
      putRki: p('INSERT INTO rki_sessions (session_id, device_id, wrapped_keys, expires_ms) VALUES (?, ?, ?, ?)'),
      getRki: p('SELECT * FROM rki_sessions WHERE session_id = ?'),
      delRki: p('DELETE FROM rki_sessions WHERE session_id = ?'),
      putSecret: p('INSERT INTO secrets (id, wrapped) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET wrapped = excluded.wrapped'),
      getSecret: p('SELECT wrapped FROM secrets WHERE id = ?'),
      addSecret: p('INSERT INTO secrets (id, wrapped) VALUES (?, ?) ON CONFLICT (id) DO NOTHING'),
      addIssuerPvv: p('INSERT INTO issuer_pvvs (acquirer_id, pan_hash, pvk_id, pvv) VALUES (?, ?, ?, ?) ON CONFLICT (acquirer_id, pan_hash) DO NOTHING'),
      getIssuerPvv: p('SELECT pvk_id, pvv FROM issuer_pvvs WHERE acquirer_id = ? AND pan_hash = ?'),
      getPayment: p('SELECT * FROM payments WHERE device_id = ? AND client_transaction_id = ?'),
      insertPayment: p(`INSERT INTO payments (device_id, client_transaction_id, reference, record_sha256, record_counter, type, amount_minor, currency,
                        account_delta, pan_hash, decision, reason, response, created_ms, reversed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      reversePayment: p('UPDATE payments SET reversed_ms = ? WHERE device_id = ? AND client_transaction_id = ? AND reversed_ms = 0'),
      getRecordCounter: p('SELECT last_record_counter AS c FROM devices WHERE device_id = ?'),
      advanceRecordCounter: p('UPDATE devices SET last_record_counter = ? WHERE device_id = ? AND last_record_counter < ?'),
      paymentByRecordCounter: p('SELECT * FROM payments WHERE device_id = ? AND record_counter = ? AND record_sha256 <> \'\' LIMIT 1'),
      getWitnessed: p('SELECT value FROM device_counters WHERE device_id = ? AND name = ?'),
      witnessStrict: p(`INSERT INTO device_counters (device_id, name, value) VALUES (?, ?, ?)
                        ON CONFLICT (device_id, name) DO UPDATE SET value = excluded.value WHERE device_counters.value < excluded.value`),
      witnessEqual: p(`INSERT INTO device_counters (device_id, name, value) VALUES (?, ?, ?)
                       ON CONFLICT (device_id, name) DO UPDATE SET value = excluded.value WHERE device_counters.value <= excluded.value`),
      putAccount: p(`INSERT INTO card_accounts (pan_hash, masked_pan, scheme, cvn, imk_id, currency, balance_minor, status, expiry, pvv, pvk_id, pin_tries, pin_try_limit, last_atc)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (pan_hash) DO UPDATE SET masked_pan = excluded.masked_pan, scheme = excluded.scheme, cvn = excluded.cvn, imk_id = excluded.imk_id,
                       currency = excluded.currency, balance_minor = excluded.balance_minor, status = excluded.status, expiry = excluded.expiry, pvv = excluded.pvv,
                       pvk_id = excluded.pvk_id, pin_tries = excluded.pin_tries, pin_try_limit = excluded.pin_try_limit, last_atc = excluded.last_atc`),
      getAccount: p('SELECT * FROM card_accounts WHERE pan_hash = ?'),
      movement: p('INSERT INTO account_movements (pan_hash, reference, delta_minor, kind, time_ms) VALUES (?, ?, ?, ?, ?)'),
      movements: p('SELECT * FROM account_movements WHERE pan_hash = ? ORDER BY id'),
      insertQrOrder: p(`INSERT INTO qr_orders (device_id, client_transaction_id, reference, payload, amount_minor, currency, state, created_ms, expires_ms, updated_ms, payer_hash)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      getQrOrder: p('SELECT * FROM qr_orders WHERE device_id = ? AND client_transaction_id = ?'),
      qrOrderByRef: p('SELECT * FROM qr_orders WHERE reference = ?'),
      setQrState: p('UPDATE qr_orders SET state = ?, updated_ms = ?, payer_hash = ? WHERE device_id = ? AND client_transaction_id = ? AND state = ?'),
      putWalletSession: p('INSERT INTO wallet_sessions (token_hash, account_hash, expires_ms) VALUES (?, ?, ?)'),
      getWalletSession: p('SELECT * FROM wallet_sessions WHERE token_hash = ?'),
      putWalletCode: p('INSERT INTO wallet_codes (code_hash, account_hash, cryptogram, expires_ms) VALUES (?, ?, ?, ?)'),
      getWalletCode: p('SELECT * FROM wallet_codes WHERE code_hash = ?'),
      useWalletCode: p('UPDATE wallet_codes SET used_ms = ? WHERE code_hash = ? AND used_ms = 0'),
    };
  }

  /** Applies pending migrations, each in its own transaction. Returns the schema version. */
  private migrate(): number {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms INTEGER NOT NULL)');
    const have = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    let v = 0;
    for (const m of MIGRATIONS) {
      if (!have.has(m.version)) {
        this.db.transaction(() => {
          this.db.exec(m.sql);
          this.db.prepare('INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
        }).immediate();
      }
      v = m.version;
    }
    return v;
  }

  schemaVersion(): number {
    return (this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v;
  }

  schemaStatus(): Promise<{ applied: number; expected: number }> {
    return this.run(() => ({ applied: this.schemaVersion() ?? 0, expected: MIGRATIONS[MIGRATIONS.length - 1].version }));
  }

  private commitObserver: ((phase: 'commit' | 'sync', seconds: number) => void) | null = null;
  observeCommits(fn: ((phase: 'commit' | 'sync', seconds: number) => void) | null): void { this.commitObserver = fn; }

  // ---- deferred sync: commits counted, fdatasyncs of the WAL file that cover them
  private readonly deferred: boolean;
  private readonly walPath: string;
  private readonly path: string;
  private walFd: number | null = null;
  private commits = 0;
  private synced = 0;
  private pending: { covers: number; done: Promise<void> } | null = null;
  /** An fdatasync that failed: what was written is in an unknown state, so nothing more is
   * acknowledged (PostgreSQL's lesson: a failed fsync cannot be retried). */
  private syncFailure: Error | null = null;

  sync(): Promise<void> {
    if (this.syncFailure) return Promise.reject(this.syncFailure);
    if (!this.deferred || this.synced >= this.commits) return Promise.resolve();
    if (this.pending && this.pending.covers >= this.commits) return this.pending.done;
    const covers = this.commits;
    let fd: number;
    try {
      fd = this.wal();
    } catch (e) {
      this.syncFailure = new Error(`cannot sync ${this.walPath}: ${(e as Error).message}; restart the back end`);
      return Promise.reject(this.syncFailure);
    }
    const t = performance.now();
    const done = new Promise<void>((resolve, reject) => {
      fdatasync(fd, (e) => {
        if (e) {
          this.syncFailure = new Error(`fdatasync of ${this.walPath} failed: ${e.message}; restart the back end`);
          return reject(this.syncFailure);
        }
        this.commitObserver?.('sync', (performance.now() - t) / 1000);
        if (covers > this.synced) this.synced = covers;
        if (this.pending?.done === done) this.pending = null;
        resolve();
      });
    });
    this.pending = { covers, done };
    return done;
  }

  // ---- deferred sync: WAL checkpoints in a worker thread (./checkpointer.mjs)
  private checkpointer: Worker | null = null;
  /** The worker failed or the store is closing: the main connection checkpoints (SQLite's way). */
  private checkpointerOff = false;
  /** Checkpoints the worker has finished, and why it stopped if it failed (the fallback then checkpoints). */
  readonly checkpoints = { done: 0, failure: '' };

  private askCheckpoint(): void {
    if (!this.deferred || this.checkpointerOff) return;
    if (!this.checkpointer) {
      const w = new Worker(new URL('./checkpointer.mjs', import.meta.url), { workerData: { path: this.path } });
      w.unref();
      w.on('message', (m: { checkpointed?: number; error?: string }) => {
        if (m.error !== undefined) this.checkpointerFailed(m.error);
        else if (m.checkpointed !== undefined) this.checkpoints.done++;
      });
      w.on('error', (e) => this.checkpointerFailed(e.message));
      w.on('exit', (code) => { if (this.checkpointer === w) this.checkpointerFailed(`the checkpointer exited (${code})`); });
      this.checkpointer = w;
    }
    this.checkpointer.postMessage('checkpoint');
  }

  /** The worker cannot checkpoint: the main connection checkpoints again, as SQLite does by default. */
  private checkpointerFailed(why: string): void {
    this.checkpoints.failure = why;
    this.checkpointerOff = true;
    void this.checkpointer?.terminate();
    this.checkpointer = null;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /** Stops the worker (it closes its connection) before the main connection closes. */
  private async stopCheckpointer(): Promise<void> {
    this.checkpointerOff = true;
    const w = this.checkpointer;
    this.checkpointer = null;
    if (!w) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { void w.terminate(); }, 5000);
      w.once('exit', () => { clearTimeout(timer); resolve(); });
      w.postMessage('stop');
    });
  }

  /** The WAL file, opened once; reopened if SQLite replaced it (unlinked: no links left). */
  private wal(): number {
    if (this.walFd !== null && fstatSync(this.walFd).nlink > 0) return this.walFd;
    if (this.walFd !== null) closeSync(this.walFd);
    if (!existsSync(this.walPath)) throw new Error(`${this.walPath} is missing after a commit in WAL mode`);
    this.walFd = openSync(this.walPath, 'r');
    return this.walFd;
  }


  /** Transactions are async (fn may await) on one connection: a transaction holds the
   * connection until it ends (`lock`), and work outside it waits its turn rather than run inside
   * someone else's transaction. Whose transaction is running is the async context's (`tx`). */
  private readonly tx = new AsyncLocalStorage<{ open: boolean; savepoints: number }>();
  private lock: { waiters: (() => void)[] } | null = null;

  private acquire(): Promise<() => void> {
    const release = () => {
      const next = this.lock!.waiters.shift();
      if (next) next(); else this.lock = null;
    };
    if (!this.lock) { this.lock = { waiters: [] }; return Promise.resolve(release); }
    const lock = this.lock;
    return new Promise((resolve) => lock.waiters.push(() => resolve(release)));
  }

  /** Runs one statement group now if the connection is free or this context's transaction holds
   * it; else after the running transaction. */
  private run<T>(f: () => T): Promise<T> {
    if (!this.lock || this.tx.getStore()?.open) {
      try { return Promise.resolve(f()); } catch (e) { return Promise.reject(e); }
    }
    return this.acquire().then((release) => { try { return f(); } finally { release(); } });
  }

  /** A synchronous all-or-nothing group inside one method (take = read + delete). Inside a
   * transaction() it needs no savepoint of its own: nothing else runs between its statements,
   * and a throw rolls back the enclosing transaction or savepoint. */
  private atomic<T>(f: () => T): T {
    if (this.tx.getStore()?.open) return f();
    return this.db.inTransaction ? this.db.transaction(f)() : this.db.transaction(f).immediate();
  }

  /** Transaction control as prepared statements (db.exec would parse the SQL each time). */
  private readonly control = new Map<string, Statement>();
  private exec(sql: string): void {
    let s = this.control.get(sql);
    if (!s) { s = this.db.prepare(sql); this.control.set(sql, s); }
    s.run();
  }

  /** BEGIN IMMEDIATE … COMMIT; nested, a SAVEPOINT (so a failing inner unit rolls back alone —
   * the HTTP server's group commit runs each request in one). */
  async transaction<T>(fn: () => Promise<T> | T): Promise<T> {
    const ctx = this.tx.getStore();
    if (ctx?.open) {
      // Names by depth (sp1 inside sp0 …): a savepoint's name is free again once released, so
      // the same few prepared statements serve every request of a group commit.
      const sp = `sp${ctx.savepoints++}`;
      this.exec(`SAVEPOINT ${sp}`);
      try {
        const r = await fn();
        this.exec(`RELEASE ${sp}`);
        return r;
      } catch (e) {
        this.exec(`ROLLBACK TO ${sp}`);
        this.exec(`RELEASE ${sp}`);
        throw e;
      } finally {
        ctx.savepoints--;
      }
    }
    const release = await this.acquire();
    const mine = { open: true, savepoints: 0 };
    try {
      this.exec('BEGIN IMMEDIATE');
      try {
        const r = await this.tx.run(mine, fn);
        const t = performance.now();
        this.exec('COMMIT');
        this.commits++;
        this.commitObserver?.('commit', (performance.now() - t) / 1000);
        if (this.commits % CHECKPOINT_EVERY === 0) this.askCheckpoint();
        return r;
      } catch (e) {
        if (this.db.inTransaction) this.exec('ROLLBACK');
        throw e;
      }
    } finally {
      mine.open = false;
      release();
    }
  }

  // ---- acquirers (issue 16 §1)

  putAcquirer(a: AcquirerRow): Promise<void> {
    return this.run(() => {
      this.cached(`INSERT INTO acquirers (acquirer_id, name, admin_token_hash, route, upstream_url, limits, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (acquirer_id) DO UPDATE SET name = excluded.name, admin_token_hash = excluded.admin_token_hash, route = excluded.route, upstream_url = excluded.upstream_url, limits = excluded.limits`)
        .run(a.acquirerId, a.name, a.adminTokenHash, a.route, a.upstreamUrl, a.limits, a.createdMs);
    });
  }

  getAcquirer(acquirerId: string): Promise<AcquirerRow | null> {
    return this.run(() => toAcquirer(this.cached('SELECT * FROM acquirers WHERE acquirer_id = ?').get(acquirerId)));
  }

  getAcquirerByToken(tokenHash: string): Promise<AcquirerRow | null> {
    return this.run(() => (tokenHash ? toAcquirer(this.cached("SELECT * FROM acquirers WHERE admin_token_hash = ? AND admin_token_hash <> ''").get(tokenHash)) : null));
  }

  listAcquirers(): Promise<AcquirerRow[]> {
    return this.run(() => this.cached('SELECT * FROM acquirers ORDER BY acquirer_id').all().map((r) => toAcquirer(r)!));
  }

  claimMerchant(merchantId: string, acquirerId: string): Promise<string> {
    return this.run(() => {
      this.cached('INSERT INTO merchants (merchant_id, acquirer_id) VALUES (?, ?) ON CONFLICT (merchant_id) DO NOTHING').run(merchantId, acquirerId);
      return (this.cached('SELECT acquirer_id FROM merchants WHERE merchant_id = ?').get(merchantId) as { acquirer_id: string }).acquirer_id;
    });
  }

  merchantAcquirer(merchantId: string): Promise<string | null> {
    return this.run(() => (this.cached('SELECT acquirer_id FROM merchants WHERE merchant_id = ?').get(merchantId) as { acquirer_id: string } | undefined)?.acquirer_id ?? null);
  }

  createDevice(d: Pick<DeviceRow, 'deviceId' | 'acquirerId' | 'merchantId' | 'terminalId' | 'activationHash' | 'activationExpiresMs' | 'createdMs'>): Promise<void> {
    return this.run(() => {
      this.st.insertDevice.run(d.deviceId, d.acquirerId, d.merchantId, d.terminalId, d.activationHash, d.activationExpiresMs, d.createdMs);
    });
  }

  getDevice(deviceId: string, scope: Scope = ALL_ACQUIRERS) {
    return this.run(() => toDevice(scope === ALL_ACQUIRERS ? this.st.getDevice.get(deviceId) : this.st.getDeviceIn.get(deviceId, scope)));
  }
  getDeviceByTerminal(m: string, t: string) { return this.run(() => toDevice(this.st.byTerminal.get(m, t))); }
  getDeviceByActivation(h: string) { return this.run(() => toDevice(this.st.byActivation.get(h))); }

  listDevices(states: DeviceStateName[] | undefined, scope: Scope): Promise<DeviceRow[]> {
    return this.run(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (states?.length) { where.push(`state IN (${states.map(() => '?').join(',')})`); args.push(...states); }
      if (scope !== ALL_ACQUIRERS) { where.push('acquirer_id = ?'); args.push(scope); }
      return this.cached(`SELECT * FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`).all(...args).map((r: unknown) => toDevice(r)!);
    });
  }

  updateDevice(deviceId: string, patch: Partial<Omit<DeviceRow, 'deviceId' | 'createdMs'>>): Promise<void> {
    return this.run(() => {
      const keys = Object.keys(patch).filter((k) => (patch as any)[k] !== undefined);
      if (!keys.length) return;
      const sets = keys.map((k) => { if (!COLS[k]) throw new Error(`unknown device column ${k}`); return `${COLS[k]} = ?`; });
      const vals = keys.map((k) => { const v = (patch as any)[k]; return typeof v === 'boolean' ? (v ? 1 : 0) : v instanceof Uint8Array ? Buffer.from(v) : v; });
      this.cached(`UPDATE devices SET ${sets.join(', ')} WHERE device_id = ?`).run(...vals, deviceId);
    });
  }

  advanceCounter(deviceId: string, counter: number, contactMs?: number): Promise<boolean> {
    return this.run(() => {
      if (contactMs !== undefined) return this.st.advanceContact.run(counter, contactMs, deviceId, counter).changes === 1;
      return this.st.advance.run(counter, deviceId, counter).changes === 1;
    });
  }

  advanceCounterReadingRecord(deviceId: string, counter: number, contactMs: number): Promise<{ lastRecordCounter: number } | null> {
    return this.run(() => {
      const r = this.st.advanceContactReading.get(counter, contactMs, deviceId, counter) as { c: number } | undefined;
      return r ? { lastRecordCounter: r.c } : null;
    });
  }

  putNonce(n: NonceRow): Promise<void> {
    return this.run(() => {
      this.st.putNonce.run(n.nonce, n.deviceId, n.activationHash, n.keyHash, n.expiresMs);
    });
  }

  takeNonce(nonce: string): Promise<NonceRow | null> {
    return this.run(() => {
      return this.atomic(() => {
        const r = this.st.getNonce.get(nonce) as any;
        if (!r) return null;
        this.st.delNonce.run(nonce);
        return { nonce: r.nonce, deviceId: r.device_id, activationHash: r.activation_hash, keyHash: r.key_hash, expiresMs: r.expires_ms };
      });
    });
  }

  purgeNonces(beforeMs: number): Promise<number> { return this.run(() => this.st.purgeNonces.run(beforeMs).changes); }

  appendHistory(h: Omit<HistoryRow, 'id'>): Promise<number> {
    return this.run(() => {
      return Number(this.st.history.run(h.deviceId, h.timeMs, h.kind, h.verdict, h.detail, h.policyVersion).lastInsertRowid);
    });
  }

  history(deviceId: string, limit = 1000): Promise<HistoryRow[]> {
    return this.run(() => {
      return (this.st.listHistory.all(deviceId, limit) as any[]).map((r) => ({
        id: r.id, deviceId: r.device_id, timeMs: r.time_ms, kind: r.kind, verdict: r.verdict, detail: r.detail, policyVersion: r.policy_version,
      })).reverse();
    });
  }

  addNotice(n: Omit<NoticeRow, 'id'>): Promise<number> {
    return this.run(() => {
      return Number(this.st.notice.run(n.deviceId, n.type, n.reason, n.createdMs, n.policyVersion).lastInsertRowid);
    });
  }

  takeNotices(deviceId: string): Promise<NoticeRow[]> {
    return this.run(() => {
      return this.atomic(() => {
        const rows = (this.st.pending.all(deviceId) as any[]).map((r) => ({
          id: r.id, deviceId: r.device_id, type: r.type, reason: r.reason, createdMs: r.created_ms, policyVersion: r.policy_version,
        }));
        if (rows.length) this.st.deliver.run(deviceId, rows[rows.length - 1].id);
        return rows;
      });
    });
  }

  putPolicy(acquirerId: string, version: number, bytes: Uint8Array, createdMs: number): Promise<void> {
    return this.run(() => {
      this.st.putPolicy.run(acquirerId, version, Buffer.from(bytes), createdMs);
    });
  }

  latestPolicy(acquirerId: string) {
    return this.run(() => {
      const r = this.st.latestPolicy.get(acquirerId) as any;
      return r ? { version: r.version as number, bytes: new Uint8Array(r.bytes) } : null;
    });
  }

  policyVersions() {
    return this.run(() => (this.cached('SELECT a.acquirer_id, COALESCE((SELECT MAX(p.version) FROM policies p WHERE p.acquirer_id = a.acquirer_id), 0) AS version FROM acquirers a ORDER BY a.acquirer_id').all() as any[])
      .map((r) => ({ acquirerId: r.acquirer_id as string, version: r.version as number })));
  }

  putRkiSession(s: RkiSessionRow): Promise<void> {
    return this.run(() => {
      this.st.putRki.run(s.sessionId, s.deviceId, Buffer.from(s.wrappedKeys), s.expiresMs);
    });
  }

  takeRkiSession(sessionId: string): Promise<RkiSessionRow | null> {
    return this.run(() => {
      return this.atomic(() => {
        const r = this.st.getRki.get(sessionId) as any;
        if (!r) return null;
        this.st.delRki.run(sessionId);
        return { sessionId: r.session_id, deviceId: r.device_id, wrappedKeys: new Uint8Array(r.wrapped_keys), expiresMs: r.expires_ms };
      });
    });
  }

  getPayment(deviceId: string, clientTransactionId: string): Promise<PaymentRow | null> {
    return this.run(() => toPayment(this.st.getPayment.get(deviceId, clientTransactionId)));
  }

  // issue 17 §1: witnessed TEE counters (repository.ts)
  paymentByRecordCounter(deviceId: string, recordCounter: number): Promise<PaymentRow | null> {
    return this.run(() => toPayment(this.st.paymentByRecordCounter.get(deviceId, recordCounter)));
  }

  witnessedCounter(deviceId: string, name: string): Promise<number | null> {
    return this.run(() => (this.st.getWitnessed.get(deviceId, name) as { value: number } | undefined)?.value ?? null);
  }

  witnessCounter(deviceId: string, name: string, value: number, strict: boolean): Promise<boolean> {
    return this.run(() => (strict ? this.st.witnessStrict : this.st.witnessEqual).run(deviceId, name, value).changes === 1);
  }

  insertPayment(p: PaymentRow): Promise<void> {
    return this.run(() => {
      this.st.insertPayment.run(p.deviceId, p.clientTransactionId, p.reference, p.recordSha256, p.recordCounter, p.type, p.amountMinor, p.currency,
        p.accountDelta, p.panHash, p.decision, p.reason, Buffer.from(p.response), p.createdMs, p.reversedMs);
    });
  }

  markReversed(deviceId: string, clientTransactionId: string, reversedMs: number): Promise<boolean> {
    return this.run(() => {
      return this.st.reversePayment.run(reversedMs, deviceId, clientTransactionId).changes === 1;
    });
  }

  advanceRecordCounter(deviceId: string, counter: number): Promise<boolean> {
    return this.run(() => {
      return this.st.advanceRecordCounter.run(counter, deviceId, counter).changes === 1;
    });
  }

  lastRecordCounter(deviceId: string): Promise<number> {
    return this.run(() => {
      return (this.st.getRecordCounter.get(deviceId) as { c: number } | undefined)?.c ?? 0;
    });
  }

  putCardAccount(c: CardAccountRow): Promise<void> {
    return this.run(() => {
      this.st.putAccount.run(c.panHash, c.maskedPan, c.scheme, c.cvn, c.imkId, c.currency, c.balanceMinor, c.status, c.expiry, Buffer.from(c.pvv),
        c.pvkId, c.pinTries, c.pinTryLimit, c.lastAtc);
    });
  }

  getCardAccount(panHash: string): Promise<CardAccountRow | null> {
    return this.run(() => toCardAccount(this.st.getAccount.get(panHash)));
  }

  addIssuerPvv(acquirerId: string, panHash: string, pvkId: string, pvv: Uint8Array): Promise<boolean> {
    return this.run(() => this.st.addIssuerPvv.run(acquirerId, panHash, pvkId, Buffer.from(pvv)).changes === 1);
  }

  getIssuerPvv(acquirerId: string, panHash: string): Promise<{ pvkId: string; pvv: Uint8Array } | null> {
    return this.run(() => {
      const r = this.st.getIssuerPvv.get(acquirerId, panHash) as { pvk_id: string; pvv: Buffer } | undefined;
      return r ? { pvkId: r.pvk_id, pvv: new Uint8Array(r.pvv) } : null;
    });
  }


  updateCardAccount(panHash: string, patch: Partial<Pick<CardAccountRow, 'balanceMinor' | 'status' | 'pinTries' | 'lastAtc'>>): Promise<void> {
    return this.run(() => {
      const keys = Object.keys(patch).filter((k) => (patch as any)[k] !== undefined);
      if (!keys.length) return;
      this.cached(`UPDATE card_accounts SET ${keys.map((k) => `${ACCOUNT_COLUMNS[k]} = ?`).join(', ')} WHERE pan_hash = ?`).run(...keys.map((k) => (patch as any)[k]), panHash);
    });
  }

  addAccountMovement(m: { panHash: string; reference: string; deltaMinor: number; kind: string; timeMs: number }): Promise<void> {
    return this.run(() => {
      this.st.movement.run(m.panHash, m.reference, m.deltaMinor, m.kind, m.timeMs);
    });
  }

  accountMovements(panHash: string) {
    return this.run(() => {
      return (this.st.movements.all(panHash) as any[]).map((r) => ({ reference: r.reference, deltaMinor: r.delta_minor, kind: r.kind, timeMs: r.time_ms }));
    });
  }

  insertQrOrder(o: QrOrderRow): Promise<void> {
    return this.run(() => {
      this.st.insertQrOrder.run(o.deviceId, o.clientTransactionId, o.reference, o.payload, o.amountMinor, o.currency, o.state, o.createdMs, o.expiresMs, o.updatedMs, o.payerHash);
    });
  }

  getQrOrder(deviceId: string, clientTransactionId: string): Promise<QrOrderRow | null> {
    return this.run(() => {
      return toQrOrder(this.st.getQrOrder.get(deviceId, clientTransactionId));
    });
  }

  getQrOrderByReference(reference: string): Promise<QrOrderRow | null> {
    return this.run(() => {
      return toQrOrder(this.st.qrOrderByRef.get(reference));
    });
  }

  setQrOrderState(deviceId: string, clientTransactionId: string, from: QrOrderStateName, to: QrOrderStateName, updatedMs: number, payerHash = ''): Promise<boolean> {
    return this.run(() => {
      return this.st.setQrState.run(to, updatedMs, payerHash, deviceId, clientTransactionId, from).changes === 1;
    });
  }

  putWalletSession(tokenHash: string, accountHash: string, expiresMs: number): Promise<void> {
    return this.run(() => {
      this.st.putWalletSession.run(tokenHash, accountHash, expiresMs);
    });
  }

  getWalletSession(tokenHash: string): Promise<{ accountHash: string; expiresMs: number } | null> {
    return this.run(() => {
      const r = this.st.getWalletSession.get(tokenHash) as any;
      return r ? { accountHash: r.account_hash, expiresMs: r.expires_ms } : null;
    });
  }

  putWalletCode(c: Omit<WalletCodeRow, 'usedMs'>): Promise<void> {
    return this.run(() => {
      this.st.putWalletCode.run(c.codeHash, c.accountHash, c.cryptogram, c.expiresMs);
    });
  }

  getWalletCode(codeHash: string): Promise<WalletCodeRow | null> {
    return this.run(() => {
      const r = this.st.getWalletCode.get(codeHash) as any;
      return r ? { codeHash: r.code_hash, accountHash: r.account_hash, cryptogram: r.cryptogram, expiresMs: r.expires_ms, usedMs: r.used_ms } : null;
    });
  }

  useWalletCode(codeHash: string, usedMs: number): Promise<boolean> {
    return this.run(() => {
      return this.st.useWalletCode.run(usedMs, codeHash).changes === 1;
    });
  }

  // ---- operators' console

  addClientRelease(r: ClientReleaseRow): Promise<boolean> {
    return this.run(() => this.cached(`INSERT INTO client_releases (acquirer_id, name, version, sha256, allowed, allowed_ms, revoked_ms, reason)
                                       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (acquirer_id, name, version) DO NOTHING`)
      .run(r.acquirerId, r.name, r.version, r.sha256, r.allowed ? 1 : 0, r.allowedMs, r.revokedMs, r.reason).changes === 1);
  }

  revokeClientRelease(acquirerId: string, name: string, version: string, revokedMs: number, reason: string): Promise<boolean> {
    return this.run(() => this.cached(`UPDATE client_releases SET allowed = 0, revoked_ms = ?, reason = ?
                                       WHERE acquirer_id = ? AND name = ? AND version = ? AND allowed = 1`)
      .run(revokedMs, reason, acquirerId, name, version).changes === 1);
  }

  listClientReleases(acquirerId: string): Promise<ClientReleaseRow[]> {
    return this.run(() => this.cached('SELECT * FROM client_releases WHERE acquirer_id = ? ORDER BY name, version').all(acquirerId).map(toClientRelease));
  }

  putOperator(o: OperatorRow): Promise<void> {
    return this.run(() => {
      this.cached(`INSERT INTO operators (username, acquirer_id, role, password_hash, created_ms, disabled) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (username) DO UPDATE SET acquirer_id = excluded.acquirer_id, role = excluded.role, password_hash = excluded.password_hash, disabled = excluded.disabled`)
        .run(o.username, o.acquirerId, o.role, o.passwordHash, o.createdMs, o.disabled ? 1 : 0);
    });
  }

  getOperator(username: string): Promise<OperatorRow | null> {
    return this.run(() => toOperator(this.cached('SELECT * FROM operators WHERE username = ?').get(username)));
  }

  listOperators(): Promise<OperatorRow[]> {
    return this.run(() => this.cached('SELECT * FROM operators ORDER BY username').all().map((r) => toOperator(r)!));
  }

  putConsoleSession(s: ConsoleSessionRow): Promise<void> {
    return this.run(() => {
      this.cached('INSERT INTO console_sessions (token_hash, username, acquirer_id, role, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)')
        .run(s.tokenHash, s.username, s.acquirerId, s.role, s.createdMs, s.expiresMs);
    });
  }

  getConsoleSession(tokenHash: string): Promise<ConsoleSessionRow | null> {
    return this.run(() => {
      return toConsoleSession(this.cached('SELECT * FROM console_sessions WHERE token_hash = ?').get(tokenHash));
    });
  }

  deleteConsoleSession(tokenHash: string): Promise<void> {
    return this.run(() => { this.cached('DELETE FROM console_sessions WHERE token_hash = ?').run(tokenHash); });
  }

  purgeConsoleSessions(beforeMs: number): Promise<number> {
    return this.run(() => this.cached('DELETE FROM console_sessions WHERE expires_ms < ?').run(beforeMs).changes);
  }

  appendDeviceSignals(s: Omit<DeviceSignalsRow, 'id'>): Promise<number> {
    return this.run(() => Number(this.cached(`INSERT INTO device_signals (device_id, time_ms, source, ip, lat_e6, lon_e6, signals, measurements)
                                              VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(s.deviceId, s.timeMs, s.source, s.ip, s.latE6, s.lonE6, s.signals, s.measurements).lastInsertRowid));
  }

  deviceSignals(deviceId: string, limit = 100): Promise<DeviceSignalsRow[]> {
    return this.run(() => (this.cached('SELECT * FROM device_signals WHERE device_id = ? ORDER BY id DESC LIMIT ?').all(deviceId, limit) as any[]).map((r) => ({
      id: r.id, deviceId: r.device_id, timeMs: r.time_ms, source: r.source, ip: r.ip, latE6: r.lat_e6, lonE6: r.lon_e6, signals: r.signals, measurements: r.measurements,
    })).reverse());
  }

  searchPayments(q: PaymentSearch): Promise<PaymentRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.reference) { where.push('reference = ?'); args.push(q.reference); }
    if (q.clientTransactionId) { where.push('client_transaction_id = ?'); args.push(q.clientTransactionId); }
    if (q.deviceId) { where.push('device_id = ?'); args.push(q.deviceId); }
    if (q.scope !== ALL_ACQUIRERS) { where.push(IN_SCOPE); args.push(q.scope); }
    if (q.outcome === 'reversed') where.push("decision = 'approved' AND reversed_ms > 0");
    else if (q.outcome === 'approved') where.push("decision = 'approved' AND reversed_ms = 0");
    else if (q.outcome === 'declined') where.push("decision = 'declined'");
    if (q.fromMs !== undefined) { where.push('created_ms >= ?'); args.push(q.fromMs); }
    if (q.toMs !== undefined) { where.push('created_ms < ?'); args.push(q.toMs); }
    const sql = `SELECT * FROM payments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC LIMIT ?`;
    return this.run(() => (this.cached(sql).all(...args, Math.min(q.limit ?? 100, 1000)) as any[]).map((r) => toPayment(r)!));
  }

  paymentCounts(fromMs: number, toMs: number, bucketMs: number, scope: Scope) {
    const all = scope === ALL_ACQUIRERS;
    return this.run(() => this.cached(`SELECT (created_ms / ?) * ? AS bucket,
                                                CASE WHEN decision = 'approved' AND reversed_ms > 0 THEN 'reversed' ELSE decision END AS outcome,
                                                reason, COUNT(*) AS n
                                         FROM payments WHERE created_ms >= ? AND created_ms < ? ${all ? '' : `AND ${IN_SCOPE}`} GROUP BY bucket, outcome, reason ORDER BY bucket`)
      .all(bucketMs, bucketMs, fromMs, toMs, ...(all ? [] : [scope]))
      .map((r: any) => ({ bucketMs: r.bucket as number, outcome: r.outcome as 'approved' | 'declined' | 'reversed', reason: r.reason as number, n: r.n as number })));
  }

  verdictCounts(fromMs: number, toMs: number, bucketMs: number, scope: Scope) {
    const all = scope === ALL_ACQUIRERS;
    return this.run(() => this.cached(`SELECT (time_ms / ?) * ? AS bucket, verdict, COUNT(*) AS n FROM history
                                         WHERE kind = 'verdict' AND time_ms >= ? AND time_ms < ? ${all ? '' : `AND ${IN_SCOPE}`} GROUP BY bucket, verdict ORDER BY bucket`)
      .all(bucketMs, bucketMs, fromMs, toMs, ...(all ? [] : [scope]))
      .map((r: any) => ({ bucketMs: r.bucket as number, verdict: r.verdict as VerdictName, n: r.n as number })));
  }

  listNotices(q: NoticeSearch) {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.afterId) { where.push('id > ?'); args.push(q.afterId); }
    if (q.deviceId) { where.push('device_id = ?'); args.push(q.deviceId); }
    if (q.scope !== ALL_ACQUIRERS) { where.push(IN_SCOPE); args.push(q.scope); }
    if (q.types?.length) { where.push(`type IN (${q.types.map(() => '?').join(',')})`); args.push(...q.types); }
    const sql = `SELECT * FROM notices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.run(() => (this.cached(sql).all(...args, Math.min(q.limit ?? 100, 1000)) as any[]).map((r) => ({
      id: r.id as number, deviceId: r.device_id as string, type: r.type, reason: r.reason as string, createdMs: r.created_ms as number,
      policyVersion: r.policy_version as number, delivered: !!r.delivered,
    })));
  }

  listPolicies(acquirerId: string) {
    return this.run(() => (this.cached('SELECT version, bytes, created_ms FROM policies WHERE acquirer_id = ? ORDER BY version').all(acquirerId) as any[])
      .map((r) => ({ version: r.version as number, bytes: new Uint8Array(r.bytes), createdMs: r.created_ms as number })));
  }

  putSecret(id: string, wrapped: Uint8Array): Promise<void> { return this.run(() => { this.st.putSecret.run(id, Buffer.from(wrapped)); }); }
  addSecret(id: string, wrapped: Uint8Array): Promise<boolean> { return this.run(() => this.st.addSecret.run(id, Buffer.from(wrapped)).changes === 1); }
  getSecret(id: string): Promise<Uint8Array | null> {
    return this.run(() => {
      const r = this.st.getSecret.get(id) as any;
      return r ? new Uint8Array(r.wrapped) : null;
    });
  }

  /** Waits for a running transaction, then closes the connection. */
  async close(): Promise<void> {
    await this.stopCheckpointer();
    return this.run(() => {
      if (this.db.open) this.db.close();
      if (this.walFd !== null) { closeSync(this.walFd); this.walFd = null; }
    });
  }
}
