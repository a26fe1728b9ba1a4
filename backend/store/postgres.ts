// The server store: PostgreSQL (node-postgres `pg` 8) behind the same Repository interface as the
// embedded SQLite (sqlite.ts), for several stateless back-end nodes sharing one database.
//
//   - transaction() is BEGIN ISOLATION LEVEL REPEATABLE READ … COMMIT on one pooled connection; a
//     serialization failure or deadlock (SQLSTATE 40001, 40P01) or a unique violation from a
//     concurrent insert (23505) runs the whole unit again, so counters, ATCs, nonces, idempotency
//     keys and balances are decided by the database across connections and nodes, never by a lock
//     in this process. Every invariant the back end keeps is one row's compare-and-set (counters,
//     ATC, balance, PIN tries, a nonce's or code's single use, an order's state) or a unique key
//     (the journal's (device, client transaction id), a terminal, a policy version), so snapshot
//     isolation's first-updater-wins catches each conflict; SERIALIZABLE's predicate locks, on
//     tables small enough to be scanned whole, aborted most concurrent authorizations for nothing
//     (measured: 5/s). Nested, a SAVEPOINT.
//   - The connection string may name several hosts, libpq style
//     (postgres://u@h1:5432,h2:5432/db?target_session_attrs=read-write): the store connects to the
//     one that accepts writes (not in recovery). When a connection is lost (the primary died, a
//     standby was promoted) it finds the writable host again and re-runs the unit if COMMIT was not
//     yet sent; if the connection died during COMMIT the outcome is unknown and the caller gets
//     CommitUnknownError (the device resolves its payment by client transaction id).
//   - Numbered migrations (the same numbers as SQLite's) in schema_migrations, applied under an
//     advisory lock so nodes starting together migrate once.
import pg from 'pg';
import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  Repository, DeviceRow, NonceRow, HistoryRow, NoticeRow, RkiSessionRow, DeviceStateName, PaymentRow, CardAccountRow,
  QrOrderRow, QrOrderStateName, WalletCodeRow, OperatorRow, ConsoleSessionRow, DeviceSignalsRow, PaymentSearch, NoticeSearch, VerdictName,
  AcquirerRow, Scope, ClientReleaseRow,
} from './repository.ts';
import { ALL_ACQUIRERS } from './repository.ts';
import { DEVICE_COLUMNS, ACCOUNT_COLUMNS, toDevice, toQrOrder, toPayment, toCardAccount, toOperator, toConsoleSession, toAcquirer, toClientRelease } from './rows.ts';

/** A row of a table with a device_id column that belongs to the scope's acquirer (parameter $n). */
const inScope = (n: number) => `device_id IN (SELECT device_id FROM devices WHERE acquirer_id = $${n})`;

/** PostgreSQL migrations; version N is SQLite's version N in this dialect. Append, never edit. */
export const PG_MIGRATIONS: { version: number; name: string; sql: string }[] = [
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
        activation_expires_ms BIGINT NOT NULL DEFAULT 0,
        public_key BYTEA NOT NULL DEFAULT ''::bytea,
        oem_serial TEXT NOT NULL DEFAULT '',
        last_counter BIGINT NOT NULL DEFAULT 0,
        last_contact_ms BIGINT NOT NULL DEFAULT 0,
        last_heartbeat_ms BIGINT NOT NULL DEFAULT 0,
        last_attestation_ms BIGINT NOT NULL DEFAULT 0,
        last_verdict TEXT NOT NULL DEFAULT '',
        attestation_required BOOLEAN NOT NULL DEFAULT FALSE,
        ree_device_id TEXT NOT NULL DEFAULT '',
        last_ip TEXT NOT NULL DEFAULT '',
        last_lat_e6 BIGINT,
        last_lon_e6 BIGINT,
        created_ms BIGINT NOT NULL,
        UNIQUE (merchant_id, terminal_id)
      );
      CREATE INDEX devices_activation ON devices (activation_hash) WHERE activation_hash <> '';
      CREATE INDEX devices_state ON devices (state);
      CREATE TABLE nonces (
        nonce TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        activation_hash TEXT NOT NULL DEFAULT '',
        key_hash TEXT NOT NULL DEFAULT '',
        expires_ms BIGINT NOT NULL
      );
      CREATE INDEX nonces_expiry ON nonces (expires_ms);
      CREATE TABLE history (
        id BIGSERIAL PRIMARY KEY,
        device_id TEXT NOT NULL,
        time_ms BIGINT NOT NULL,
        kind TEXT NOT NULL,
        verdict TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        policy_version INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX history_device ON history (device_id, id);
      CREATE TABLE notices (
        id BIGSERIAL PRIMARY KEY,
        device_id TEXT NOT NULL,
        type TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_ms BIGINT NOT NULL,
        policy_version INTEGER NOT NULL DEFAULT 0,
        delivered BOOLEAN NOT NULL DEFAULT FALSE
      );
      CREATE INDEX notices_pending ON notices (device_id, id) WHERE NOT delivered;
      CREATE TABLE policies (
        version INTEGER PRIMARY KEY,
        bytes BYTEA NOT NULL,
        created_ms BIGINT NOT NULL
      );
      CREATE TABLE rki_sessions (
        session_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        wrapped_keys BYTEA NOT NULL,
        expires_ms BIGINT NOT NULL
      );
      CREATE TABLE secrets (
        id TEXT PRIMARY KEY,
        wrapped BYTEA NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'payments journal, txsign record counter per device, simulated issuer accounts and ledger',
    sql: `
      CREATE TABLE payments (
        device_id TEXT NOT NULL,
        client_transaction_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        record_sha256 TEXT NOT NULL,
        record_counter BIGINT NOT NULL,
        type TEXT NOT NULL,
        amount_minor BIGINT NOT NULL,
        currency TEXT NOT NULL,
        account_delta BIGINT NOT NULL DEFAULT 0,
        pan_hash TEXT NOT NULL DEFAULT '',
        decision TEXT NOT NULL CHECK (decision IN ('approved','declined')),
        reason INTEGER NOT NULL DEFAULT 0,
        response BYTEA NOT NULL,
        created_ms BIGINT NOT NULL,
        reversed_ms BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (device_id, client_transaction_id)
      );
      ALTER TABLE devices ADD COLUMN last_record_counter BIGINT NOT NULL DEFAULT 0;
      CREATE TABLE card_accounts (
        pan_hash TEXT PRIMARY KEY,
        masked_pan TEXT NOT NULL,
        scheme TEXT NOT NULL,
        cvn TEXT NOT NULL,
        imk_id TEXT NOT NULL,
        currency TEXT NOT NULL,
        balance_minor BIGINT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active','blocked')),
        expiry TEXT NOT NULL,
        pvv BYTEA NOT NULL,
        pvk_id TEXT NOT NULL,
        pin_tries INTEGER NOT NULL DEFAULT 0,
        pin_try_limit INTEGER NOT NULL DEFAULT 3,
        last_atc INTEGER NOT NULL DEFAULT -1
      );
      CREATE TABLE account_movements (
        id BIGSERIAL PRIMARY KEY,
        pan_hash TEXT NOT NULL,
        reference TEXT NOT NULL,
        delta_minor BIGINT NOT NULL,
        kind TEXT NOT NULL,
        time_ms BIGINT NOT NULL
      );
      CREATE INDEX account_movements_pan ON account_movements (pan_hash, id);
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
        amount_minor BIGINT NOT NULL,
        currency TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending','paid','declined','expired','cancelled')),
        created_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        payer_hash TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (device_id, client_transaction_id)
      );
      CREATE TABLE wallet_sessions (
        token_hash TEXT PRIMARY KEY,
        account_hash TEXT NOT NULL,
        expires_ms BIGINT NOT NULL
      );
      CREATE TABLE wallet_codes (
        code_hash TEXT PRIMARY KEY,
        account_hash TEXT NOT NULL,
        cryptogram TEXT NOT NULL,
        expires_ms BIGINT NOT NULL,
        used_ms BIGINT NOT NULL DEFAULT 0
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
        created_ms BIGINT NOT NULL,
        disabled BOOLEAN NOT NULL DEFAULT FALSE
      );
      CREATE TABLE console_sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('viewer','operator','admin')),
        created_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL
      );
      CREATE TABLE device_signals (
        id BIGSERIAL PRIMARY KEY,
        device_id TEXT NOT NULL,
        time_ms BIGINT NOT NULL,
        source TEXT NOT NULL,
        ip TEXT NOT NULL DEFAULT '',
        lat_e6 BIGINT,
        lon_e6 BIGINT,
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
      CREATE TABLE device_counters (
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        name TEXT NOT NULL,
        value BIGINT NOT NULL,
        PRIMARY KEY (device_id, name)
      );
      CREATE INDEX payments_by_record_counter ON payments (device_id, record_counter);
    `,
  },
  {
    version: 6,
    name: 'acquirers as tenants (issue 16 §1): acquirers, merchants, the acquirer of devices, operators, sessions and policies',
    sql: `
      CREATE TABLE acquirers (
        acquirer_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        admin_token_hash TEXT NOT NULL DEFAULT '',
        route TEXT NOT NULL DEFAULT 'issuer-sim',
        limits TEXT NOT NULL DEFAULT '',
        created_ms BIGINT NOT NULL
      );
      CREATE INDEX acquirers_token ON acquirers (admin_token_hash) WHERE admin_token_hash <> '';
      INSERT INTO acquirers (acquirer_id, name, created_ms) VALUES ('default', 'default', 0);
      CREATE TABLE merchants (
        merchant_id TEXT PRIMARY KEY,
        acquirer_id TEXT NOT NULL REFERENCES acquirers(acquirer_id)
      );
      INSERT INTO merchants (merchant_id, acquirer_id) SELECT DISTINCT merchant_id, 'default' FROM devices;
      ALTER TABLE devices ADD COLUMN acquirer_id TEXT NOT NULL DEFAULT 'default' REFERENCES acquirers(acquirer_id);
      CREATE INDEX devices_acquirer ON devices (acquirer_id);
      ALTER TABLE operators ADD COLUMN acquirer_id TEXT NOT NULL DEFAULT 'default';
      ALTER TABLE console_sessions ADD COLUMN acquirer_id TEXT NOT NULL DEFAULT 'default';
      ALTER TABLE policies ADD COLUMN acquirer_id TEXT NOT NULL DEFAULT 'default';
      ALTER TABLE policies DROP CONSTRAINT policies_pkey;
      ALTER TABLE policies ADD PRIMARY KEY (acquirer_id, version);
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
        allowed BOOLEAN NOT NULL,
        allowed_ms BIGINT NOT NULL,
        revoked_ms BIGINT NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (acquirer_id, name, version)
      );
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
        pvv BYTEA NOT NULL,
        PRIMARY KEY (acquirer_id, pan_hash)
      );
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

/** The database took the transaction's COMMIT but the connection died before it answered: it may
 * or may not have committed. Nothing is retried (a second run could decide differently); the
 * device asks for its payment's status by client transaction id. */
export class CommitUnknownError extends Error {
  constructor(cause: unknown) { super(`the connection to PostgreSQL was lost during COMMIT: outcome unknown (${(cause as Error)?.message ?? cause})`); this.name = 'CommitUnknownError'; }
}

export class PostgresConfigError extends Error {
  constructor(message: string) { super(message); this.name = 'PostgresConfigError'; }
}

export interface PostgresOptions {
  /** Connections per node (default 10). */
  poolSize?: number;
  /** How long to keep looking for a writable host after a connection is lost (default 60 s). */
  reconnectMs?: number;
  /** Called with a line when the store reconnects (never with data). */
  log?: (line: string) => void;
}

const CONFLICT = new Set(['40001', '40P01', '23505']);
const LOST_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '25006', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
const MAX_CONFLICT_RETRIES = 30;

/** Serialization failures, deadlocks and concurrent unique inserts: run the unit again. */
export function isConflict(e: unknown): boolean {
  return CONFLICT.has((e as { code?: string })?.code ?? '');
}

/** The connection (or the primary behind it) is gone, or it is a standby now: find the primary. */
export function isConnectionLost(e: unknown): boolean {
  const code = (e as { code?: string })?.code ?? '';
  if (LOST_CODES.has(code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|Client was closed|not queryable|socket hang up/i.test((e as Error)?.message ?? '');
}

/** Splits a libpq-style multi-host URL into one URL per host (target_session_attrs handled here). */
export function hostUrls(url: string): string[] {
  const m = /^(postgres(?:ql)?:\/\/)([^@/?]*@)?([^/?]*)(.*)$/.exec(url);
  if (!m) throw new PostgresConfigError('the database URL must look like postgres://user@host:port[,host2:port2]/database');
  const hosts = m[3].split(',').filter(Boolean);
  if (!hosts.length) throw new PostgresConfigError('the database URL names no host');
  const rest = m[4].replace(/([?&])target_session_attrs=[^&]*&?/, '$1').replace(/[?&]$/, '');
  return hosts.map((h) => `${m[1]}${m[2] ?? ''}${h}${rest}`);
}

/** Where a URL points, without its password (for logs and errors). */
const where = (u: string) => u.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, '//$1@');

// int8 (counters, milliseconds, balances) as numbers: every value the back end stores is below 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as any);
  },
};

interface TxCtx { client: pg.PoolClient; open: boolean; savepoints: number; conflict: unknown; lost: unknown; committing: boolean; failed: unknown }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PostgresRepository implements Repository {
  readonly shared = true;
  private pool!: pg.Pool;
  private current = '';
  private finding: Promise<void> | null = null;
  private closed = false;
  private readonly tx = new AsyncLocalStorage<TxCtx>();
  private readonly urls: string[];

  private constructor(url: string, private readonly opts: PostgresOptions) {
    this.urls = hostUrls(url);
  }

  /** Connects to the writable host and applies pending migrations. */
  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresRepository> {
    const r = new PostgresRepository(url, opts);
    await r.findPrimary();
    await r.migrate();
    return r;
  }

  /** The URL (without password) of the host in use. */
  get host(): string { return where(this.current); }

  private newPool(url: string): pg.Pool {
    const pool = new pg.Pool({ connectionString: url, max: this.opts.poolSize ?? 10, types, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
    // An idle connection dying (the server went away) is reported here; the next query reconnects.
    pool.on('error', () => { /* handled when the next query fails */ });
    return pool;
  }

  /** Probes each host for one that is up and not in recovery; replaces the pool with one to it. */
  private findPrimary(): Promise<void> {
    if (this.finding) return this.finding;
    this.finding = (async () => {
      const deadline = Date.now() + (this.opts.reconnectMs ?? 60_000);
      let last: unknown = null;
      for (let round = 0; ; round++) {
        for (const url of this.urls) {
          const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
          c.on('error', () => { /* a probe that dies is just not the primary */ });
          try {
            await c.connect();
            const r = await c.query('SELECT pg_is_in_recovery() AS standby');
            if (!r.rows[0].standby) {
              const old = this.pool;
              this.pool = this.newPool(url);
              if (this.current && this.current !== url) this.opts.log?.(`PostgreSQL: now writing to ${where(url)} (was ${where(this.current)})`);
              this.current = url;
              if (old) old.end().catch(() => undefined);
              return;
            }
            last = new Error(`${where(url)} is a standby`);
          } catch (e) {
            last = e;
          } finally {
            c.end().catch(() => undefined);
          }
        }
        if (this.closed || Date.now() > deadline) throw new PostgresConfigError(`no writable PostgreSQL host among ${this.urls.map(where).join(', ')}: ${(last as Error)?.message ?? last}`);
        await sleep(Math.min(1000, 100 * 2 ** round));
      }
    })().finally(() => { this.finding = null; });
    return this.finding;
  }

  private async migrate(): Promise<void> {
    await this.transaction(async () => {
      // One node migrates at a time; the others wait here, then find nothing to do.
      await this.q('SELECT pg_advisory_xact_lock(7013013)');
      await this.q('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)');
      const have = new Set((await this.q('SELECT version FROM schema_migrations')).rows.map((r) => r.version as number));
      for (const m of PG_MIGRATIONS) {
        if (have.has(m.version)) continue;
        await this.q(m.sql);
        await this.q('INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
    });
  }

  async schemaVersion(): Promise<number> {
    return (await this.q('SELECT MAX(version) AS v FROM schema_migrations')).rows[0].v as number;
  }

  async schemaStatus(): Promise<{ applied: number; expected: number }> {
    return { applied: (await this.schemaVersion()) ?? 0, expected: PG_MIGRATIONS[PG_MIGRATIONS.length - 1].version };
  }

  private commitObserver: ((phase: 'commit' | 'sync', seconds: number) => void) | null = null;
  observeCommits(fn: ((phase: 'commit' | 'sync', seconds: number) => void) | null): void { this.commitObserver = fn; }

  /** PostgreSQL's COMMIT returns once the WAL is flushed (and, with synchronous replication, on the
   * standby): nothing is left to wait for. */
  async sync(): Promise<void> {}

  /** One statement: in the running transaction of this async context, else on its own (with
   * reconnection: a lone statement that failed to reach the database is sent again). */
  private async q(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    const ctx = this.tx.getStore();
    if (ctx?.open) {
      try {
        return await ctx.client.query(sql, params);
      } catch (e) {
        ctx.failed ??= e;
        if (isConflict(e)) ctx.conflict ??= e;
        if (isConnectionLost(e)) ctx.lost ??= e;
        throw e;
      }
    }
    return this.transaction(() => this.q(sql, params));
  }

  async transaction<T>(fn: () => Promise<T> | T): Promise<T> {
    const outer = this.tx.getStore();
    if (outer?.open) {
      const sp = `sp${++outer.savepoints}`;
      await this.q(`SAVEPOINT ${sp}`);
      try {
        const r = await fn();
        await this.q(`RELEASE SAVEPOINT ${sp}`);
        return r;
      } catch (e) {
        // After a conflict or a lost connection the whole transaction is done for: the top runs it again.
        if (!outer.conflict && !outer.lost) {
          await this.q(`ROLLBACK TO SAVEPOINT ${sp}`);
          await this.q(`RELEASE SAVEPOINT ${sp}`);
        }
        throw e;
      }
    }
    const deadline = Date.now() + (this.opts.reconnectMs ?? 60_000);
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error('the PostgreSQL repository is closed');
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        if (!isConnectionLost(e) || Date.now() > deadline) throw e;
        await this.findPrimary();
        continue;
      }
      const ctx: TxCtx = { client, open: true, savepoints: 0, conflict: null, lost: null, committing: false, failed: null };
      // The server may end a checked-out connection between statements (a restart, a failover):
      // pg reports it as an 'error' event, which must not go unheard (it would end the process).
      const onError = (e: Error) => { ctx.lost ??= e; };
      client.on('error', onError);
      let result!: T;
      try {
        await this.tx.run(ctx, async () => {
          await this.q('BEGIN ISOLATION LEVEL REPEATABLE READ');
          result = await fn();
          if (ctx.conflict) throw ctx.conflict; // fn caught it: the unit still has to run again
          if (ctx.lost) throw ctx.lost;
          ctx.committing = true;
          const t = performance.now();
          const c = await this.q('COMMIT');
          this.commitObserver?.('commit', (performance.now() - t) / 1000);
          // COMMIT of a transaction an error aborted answers ROLLBACK: nothing was stored.
          if (c.command === 'ROLLBACK') throw new Error('the transaction was rolled back by an earlier error');
        });
        ctx.open = false;
        client.off('error', onError);
        client.release();
        return result;
      } catch (e) {
        ctx.open = false;
        const lost = ctx.lost ?? (isConnectionLost(e) ? e : null);
        const conflict = ctx.conflict ?? (isConflict(e) ? e : null);
        let broken: unknown = null;
        if (!lost) await client.query('ROLLBACK').catch((x) => { broken = x; });
        client.off('error', onError);
        client.release((lost ?? broken ?? undefined) as Error | undefined); // a dead connection leaves the pool
        if (lost) {
          if (ctx.committing) throw new CommitUnknownError(lost);
          if (Date.now() > deadline) throw lost;
          await this.findPrimary();
          continue;
        }
        if (conflict && attempt < MAX_CONFLICT_RETRIES) {
          await sleep(Math.random() * Math.min(50, 2 ** attempt)); // back off a little, with jitter
          continue;
        }
        if (ctx.failed && ctx.failed !== e) this.opts.log?.(`PostgreSQL: transaction failed after ${(ctx.failed as Error).message} (${(ctx.failed as { code?: string }).code ?? ''})`);
        throw e;
      }
    }
  }

  /** Rows of one read-only statement (operators' checks and tests; the service uses the methods). */
  async query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return (await this.q(sql, params)).rows;
  }

  // ---- acquirers (issue 16 §1)

  async putAcquirer(a: AcquirerRow): Promise<void> {
    await this.q(`INSERT INTO acquirers (acquirer_id, name, admin_token_hash, route, upstream_url, limits, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
                  ON CONFLICT (acquirer_id) DO UPDATE SET name = excluded.name, admin_token_hash = excluded.admin_token_hash, route = excluded.route, upstream_url = excluded.upstream_url, limits = excluded.limits`,
    [a.acquirerId, a.name, a.adminTokenHash, a.route, a.upstreamUrl, a.limits, a.createdMs]);
  }

  async getAcquirer(acquirerId: string): Promise<AcquirerRow | null> {
    return toAcquirer((await this.q('SELECT * FROM acquirers WHERE acquirer_id = $1', [acquirerId])).rows[0]);
  }

  async getAcquirerByToken(tokenHash: string): Promise<AcquirerRow | null> {
    if (!tokenHash) return null;
    return toAcquirer((await this.q("SELECT * FROM acquirers WHERE admin_token_hash = $1 AND admin_token_hash <> ''", [tokenHash])).rows[0]);
  }

  async listAcquirers(): Promise<AcquirerRow[]> {
    return (await this.q('SELECT * FROM acquirers ORDER BY acquirer_id')).rows.map((r) => toAcquirer(r)!);
  }

  async claimMerchant(merchantId: string, acquirerId: string): Promise<string> {
    await this.q('INSERT INTO merchants (merchant_id, acquirer_id) VALUES ($1, $2) ON CONFLICT (merchant_id) DO NOTHING', [merchantId, acquirerId]);
    return (await this.q('SELECT acquirer_id FROM merchants WHERE merchant_id = $1', [merchantId])).rows[0].acquirer_id;
  }

  async merchantAcquirer(merchantId: string): Promise<string | null> {
    return (await this.q('SELECT acquirer_id FROM merchants WHERE merchant_id = $1', [merchantId])).rows[0]?.acquirer_id ?? null;
  }

  async createDevice(d: Pick<DeviceRow, 'deviceId' | 'acquirerId' | 'merchantId' | 'terminalId' | 'activationHash' | 'activationExpiresMs' | 'createdMs'>): Promise<void> {
    await this.q(`INSERT INTO devices (device_id, acquirer_id, merchant_id, terminal_id, state, activation_hash, activation_expires_ms, created_ms)
                  VALUES ($1, $2, $3, $4, 'registered', $5, $6, $7)`, [d.deviceId, d.acquirerId, d.merchantId, d.terminalId, d.activationHash, d.activationExpiresMs, d.createdMs]);
  }

  async getDevice(deviceId: string, scope: Scope = ALL_ACQUIRERS) {
    if (scope === ALL_ACQUIRERS) return toDevice((await this.q('SELECT * FROM devices WHERE device_id = $1', [deviceId])).rows[0]);
    return toDevice((await this.q('SELECT * FROM devices WHERE device_id = $1 AND acquirer_id = $2', [deviceId, scope])).rows[0]);
  }
  async getDeviceByTerminal(m: string, t: string) { return toDevice((await this.q('SELECT * FROM devices WHERE merchant_id = $1 AND terminal_id = $2', [m, t])).rows[0]); }
  async getDeviceByActivation(h: string) { return toDevice((await this.q("SELECT * FROM devices WHERE activation_hash = $1 AND activation_hash <> ''", [h])).rows[0]); }

  async listDevices(states: DeviceStateName[] | undefined, scope: Scope): Promise<DeviceRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (states?.length) { args.push(states); where.push(`state = ANY($${args.length})`); }
    if (scope !== ALL_ACQUIRERS) { args.push(scope); where.push(`acquirer_id = $${args.length}`); }
    const r = await this.q(`SELECT * FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY device_id`, args);
    return r.rows.map((x) => toDevice(x)!);
  }

  async updateDevice(deviceId: string, patch: Partial<Omit<DeviceRow, 'deviceId' | 'createdMs'>>): Promise<void> {
    const keys = Object.keys(patch).filter((k) => (patch as any)[k] !== undefined);
    if (!keys.length) return;
    const sets = keys.map((k, i) => { if (!DEVICE_COLUMNS[k]) throw new Error(`unknown device column ${k}`); return `${DEVICE_COLUMNS[k]} = $${i + 1}`; });
    const vals = keys.map((k) => { const v = (patch as any)[k]; return v instanceof Uint8Array ? Buffer.from(v) : v; });
    await this.q(`UPDATE devices SET ${sets.join(', ')} WHERE device_id = $${keys.length + 1}`, [...vals, deviceId]);
  }

  async advanceCounter(deviceId: string, counter: number, contactMs?: number): Promise<boolean> {
    // Compare-and-set: a concurrent request with the same counter waits on the row lock, then finds
    // the condition false (or conflicts and runs again): one of them wins.
    if (contactMs !== undefined) {
      return (await this.q('UPDATE devices SET last_counter = $1, last_contact_ms = $3 WHERE device_id = $2 AND last_counter < $1', [counter, deviceId, contactMs])).rowCount === 1;
    }
    return (await this.q('UPDATE devices SET last_counter = $1 WHERE device_id = $2 AND last_counter < $1', [counter, deviceId])).rowCount === 1;
  }

  async advanceCounterReadingRecord(deviceId: string, counter: number, contactMs: number): Promise<{ lastRecordCounter: number } | null> {
    // The same compare-and-set as advanceCounter; the row it updated stays locked to the end of
    // the transaction, so the record counter it returns is the one a later update will compare.
    const r = (await this.q('UPDATE devices SET last_counter = $1, last_contact_ms = $3 WHERE device_id = $2 AND last_counter < $1 RETURNING last_record_counter AS c', [counter, deviceId, contactMs])).rows[0];
    return r ? { lastRecordCounter: r.c } : null;
  }

  async putNonce(n: NonceRow): Promise<void> {
    await this.q('INSERT INTO nonces (nonce, device_id, activation_hash, key_hash, expires_ms) VALUES ($1, $2, $3, $4, $5)', [n.nonce, n.deviceId, n.activationHash, n.keyHash, n.expiresMs]);
  }

  async takeNonce(nonce: string): Promise<NonceRow | null> {
    // DELETE … RETURNING: read and remove in one statement, so two takers cannot both get it.
    const r = (await this.q('DELETE FROM nonces WHERE nonce = $1 RETURNING *', [nonce])).rows[0];
    return r ? { nonce: r.nonce, deviceId: r.device_id, activationHash: r.activation_hash, keyHash: r.key_hash, expiresMs: r.expires_ms } : null;
  }

  async purgeNonces(beforeMs: number): Promise<number> { return (await this.q('DELETE FROM nonces WHERE expires_ms < $1', [beforeMs])).rowCount ?? 0; }

  async appendHistory(h: Omit<HistoryRow, 'id'>): Promise<number> {
    return (await this.q('INSERT INTO history (device_id, time_ms, kind, verdict, detail, policy_version) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
      [h.deviceId, h.timeMs, h.kind, h.verdict, h.detail, h.policyVersion])).rows[0].id;
  }

  async history(deviceId: string, limit = 1000): Promise<HistoryRow[]> {
    return (await this.q('SELECT * FROM history WHERE device_id = $1 ORDER BY id DESC LIMIT $2', [deviceId, limit])).rows.map((r) => ({
      id: r.id, deviceId: r.device_id, timeMs: r.time_ms, kind: r.kind, verdict: r.verdict, detail: r.detail, policyVersion: r.policy_version,
    })).reverse();
  }

  async addNotice(n: Omit<NoticeRow, 'id'>): Promise<number> {
    return (await this.q('INSERT INTO notices (device_id, type, reason, created_ms, policy_version) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [n.deviceId, n.type, n.reason, n.createdMs, n.policyVersion])).rows[0].id;
  }

  async takeNotices(deviceId: string): Promise<NoticeRow[]> {
    // UPDATE … RETURNING: delivered once even when two requests of a device run at the same time.
    const rows = (await this.q('UPDATE notices SET delivered = TRUE WHERE device_id = $1 AND NOT delivered RETURNING *', [deviceId])).rows;
    return rows.map((r) => ({ id: r.id, deviceId: r.device_id, type: r.type, reason: r.reason, createdMs: r.created_ms, policyVersion: r.policy_version }))
      .sort((x, y) => x.id - y.id);
  }

  async putPolicy(acquirerId: string, version: number, bytes: Uint8Array, createdMs: number): Promise<void> {
    await this.q('INSERT INTO policies (acquirer_id, version, bytes, created_ms) VALUES ($1, $2, $3, $4)', [acquirerId, version, Buffer.from(bytes), createdMs]);
  }

  async latestPolicy(acquirerId: string) {
    const r = (await this.q('SELECT version, bytes FROM policies WHERE acquirer_id = $1 ORDER BY version DESC LIMIT 1', [acquirerId])).rows[0];
    return r ? { version: r.version as number, bytes: new Uint8Array(r.bytes) } : null;
  }

  async policyVersions() {
    return (await this.q('SELECT a.acquirer_id, COALESCE((SELECT MAX(p.version) FROM policies p WHERE p.acquirer_id = a.acquirer_id), 0) AS version FROM acquirers a ORDER BY a.acquirer_id')).rows
      .map((r) => ({ acquirerId: r.acquirer_id as string, version: Number(r.version) }));
  }

  async putRkiSession(s: RkiSessionRow): Promise<void> {
    await this.q('INSERT INTO rki_sessions (session_id, device_id, wrapped_keys, expires_ms) VALUES ($1, $2, $3, $4)', [s.sessionId, s.deviceId, Buffer.from(s.wrappedKeys), s.expiresMs]);
  }

  async takeRkiSession(sessionId: string): Promise<RkiSessionRow | null> {
    const r = (await this.q('DELETE FROM rki_sessions WHERE session_id = $1 RETURNING *', [sessionId])).rows[0];
    return r ? { sessionId: r.session_id, deviceId: r.device_id, wrappedKeys: new Uint8Array(r.wrapped_keys), expiresMs: r.expires_ms } : null;
  }

  async getPayment(deviceId: string, clientTransactionId: string): Promise<PaymentRow | null> {
    return toPayment((await this.q('SELECT * FROM payments WHERE device_id = $1 AND client_transaction_id = $2', [deviceId, clientTransactionId])).rows[0]);
  }

  async insertPayment(p: PaymentRow): Promise<void> {
    // The primary key (device, client transaction id) is the idempotency key: a concurrent second
    // insert fails (23505) and its unit runs again, finding this row.
    await this.q(`INSERT INTO payments (device_id, client_transaction_id, reference, record_sha256, record_counter, type, amount_minor, currency,
                  account_delta, pan_hash, decision, reason, response, created_ms, reversed_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [p.deviceId, p.clientTransactionId, p.reference, p.recordSha256, p.recordCounter, p.type, p.amountMinor, p.currency,
      p.accountDelta, p.panHash, p.decision, p.reason, Buffer.from(p.response), p.createdMs, p.reversedMs]);
  }

  async markReversed(deviceId: string, clientTransactionId: string, reversedMs: number): Promise<boolean> {
    return (await this.q('UPDATE payments SET reversed_ms = $1 WHERE device_id = $2 AND client_transaction_id = $3 AND reversed_ms = 0', [reversedMs, deviceId, clientTransactionId])).rowCount === 1;
  }

  async advanceRecordCounter(deviceId: string, counter: number): Promise<boolean> {
    return (await this.q('UPDATE devices SET last_record_counter = $1 WHERE device_id = $2 AND last_record_counter < $1', [counter, deviceId])).rowCount === 1;
  }

  async lastRecordCounter(deviceId: string): Promise<number> {
    return (await this.q('SELECT last_record_counter AS c FROM devices WHERE device_id = $1', [deviceId])).rows[0]?.c ?? 0;
  }

  async putCardAccount(c: CardAccountRow): Promise<void> {
    await this.q(`INSERT INTO card_accounts (pan_hash, masked_pan, scheme, cvn, imk_id, currency, balance_minor, status, expiry, pvv, pvk_id, pin_tries, pin_try_limit, last_atc)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                  ON CONFLICT (pan_hash) DO UPDATE SET masked_pan = excluded.masked_pan, scheme = excluded.scheme, cvn = excluded.cvn, imk_id = excluded.imk_id,
                    currency = excluded.currency, balance_minor = excluded.balance_minor, status = excluded.status, expiry = excluded.expiry, pvv = excluded.pvv,
                    pvk_id = excluded.pvk_id, pin_tries = excluded.pin_tries, pin_try_limit = excluded.pin_try_limit, last_atc = excluded.last_atc`,
    [c.panHash, c.maskedPan, c.scheme, c.cvn, c.imkId, c.currency, c.balanceMinor, c.status, c.expiry, Buffer.from(c.pvv), c.pvkId, c.pinTries, c.pinTryLimit, c.lastAtc]);
  }

  async getCardAccount(panHash: string): Promise<CardAccountRow | null> {
    return toCardAccount((await this.q('SELECT * FROM card_accounts WHERE pan_hash = $1', [panHash])).rows[0]);
  }

  async addIssuerPvv(acquirerId: string, panHash: string, pvkId: string, pvv: Uint8Array): Promise<boolean> {
    return (await this.q('INSERT INTO issuer_pvvs (acquirer_id, pan_hash, pvk_id, pvv) VALUES ($1, $2, $3, $4) ON CONFLICT (acquirer_id, pan_hash) DO NOTHING',
      [acquirerId, panHash, pvkId, Buffer.from(pvv)])).rowCount === 1;
  }

  async getIssuerPvv(acquirerId: string, panHash: string): Promise<{ pvkId: string; pvv: Uint8Array } | null> {
    const r = (await this.q('SELECT pvk_id, pvv FROM issuer_pvvs WHERE acquirer_id = $1 AND pan_hash = $2', [acquirerId, panHash])).rows[0];
    return r ? { pvkId: r.pvk_id, pvv: new Uint8Array(r.pvv) } : null;
  }

  async updateCardAccount(panHash: string, patch: Partial<Pick<CardAccountRow, 'balanceMinor' | 'status' | 'pinTries' | 'lastAtc'>>): Promise<void> {
    const keys = Object.keys(patch).filter((k) => (patch as any)[k] !== undefined);
    if (!keys.length) return;
    await this.q(`UPDATE card_accounts SET ${keys.map((k, i) => `${ACCOUNT_COLUMNS[k]} = $${i + 1}`).join(', ')} WHERE pan_hash = $${keys.length + 1}`,
      [...keys.map((k) => (patch as any)[k]), panHash]);
  }

  async addAccountMovement(m: { panHash: string; reference: string; deltaMinor: number; kind: string; timeMs: number }): Promise<void> {
    await this.q('INSERT INTO account_movements (pan_hash, reference, delta_minor, kind, time_ms) VALUES ($1, $2, $3, $4, $5)', [m.panHash, m.reference, m.deltaMinor, m.kind, m.timeMs]);
  }

  async accountMovements(panHash: string) {
    return (await this.q('SELECT * FROM account_movements WHERE pan_hash = $1 ORDER BY id', [panHash])).rows
      .map((r) => ({ reference: r.reference as string, deltaMinor: r.delta_minor as number, kind: r.kind as string, timeMs: r.time_ms as number }));
  }

  async insertQrOrder(o: QrOrderRow): Promise<void> {
    await this.q(`INSERT INTO qr_orders (device_id, client_transaction_id, reference, payload, amount_minor, currency, state, created_ms, expires_ms, updated_ms, payer_hash)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [o.deviceId, o.clientTransactionId, o.reference, o.payload, o.amountMinor, o.currency, o.state, o.createdMs, o.expiresMs, o.updatedMs, o.payerHash]);
  }

  async getQrOrder(deviceId: string, clientTransactionId: string): Promise<QrOrderRow | null> {
    return toQrOrder((await this.q('SELECT * FROM qr_orders WHERE device_id = $1 AND client_transaction_id = $2', [deviceId, clientTransactionId])).rows[0]);
  }

  async getQrOrderByReference(reference: string): Promise<QrOrderRow | null> {
    return toQrOrder((await this.q('SELECT * FROM qr_orders WHERE reference = $1', [reference])).rows[0]);
  }

  async setQrOrderState(deviceId: string, clientTransactionId: string, from: QrOrderStateName, to: QrOrderStateName, updatedMs: number, payerHash = ''): Promise<boolean> {
    return (await this.q('UPDATE qr_orders SET state = $1, updated_ms = $2, payer_hash = $3 WHERE device_id = $4 AND client_transaction_id = $5 AND state = $6',
      [to, updatedMs, payerHash, deviceId, clientTransactionId, from])).rowCount === 1;
  }

  async putWalletSession(tokenHash: string, accountHash: string, expiresMs: number): Promise<void> {
    await this.q('INSERT INTO wallet_sessions (token_hash, account_hash, expires_ms) VALUES ($1, $2, $3)', [tokenHash, accountHash, expiresMs]);
  }

  async getWalletSession(tokenHash: string): Promise<{ accountHash: string; expiresMs: number } | null> {
    const r = (await this.q('SELECT * FROM wallet_sessions WHERE token_hash = $1', [tokenHash])).rows[0];
    return r ? { accountHash: r.account_hash, expiresMs: r.expires_ms } : null;
  }

  async putWalletCode(c: Omit<WalletCodeRow, 'usedMs'>): Promise<void> {
    await this.q('INSERT INTO wallet_codes (code_hash, account_hash, cryptogram, expires_ms) VALUES ($1, $2, $3, $4)', [c.codeHash, c.accountHash, c.cryptogram, c.expiresMs]);
  }

  async getWalletCode(codeHash: string): Promise<WalletCodeRow | null> {
    const r = (await this.q('SELECT * FROM wallet_codes WHERE code_hash = $1', [codeHash])).rows[0];
    return r ? { codeHash: r.code_hash, accountHash: r.account_hash, cryptogram: r.cryptogram, expiresMs: r.expires_ms, usedMs: r.used_ms } : null;
  }

  async useWalletCode(codeHash: string, usedMs: number): Promise<boolean> {
    return (await this.q('UPDATE wallet_codes SET used_ms = $1 WHERE code_hash = $2 AND used_ms = 0', [usedMs, codeHash])).rowCount === 1;
  }

  async putSecret(id: string, wrapped: Uint8Array): Promise<void> {
    await this.q('INSERT INTO secrets (id, wrapped) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET wrapped = excluded.wrapped', [id, Buffer.from(wrapped)]);
  }

  async addSecret(id: string, wrapped: Uint8Array): Promise<boolean> {
    return (await this.q('INSERT INTO secrets (id, wrapped) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, Buffer.from(wrapped)])).rowCount === 1;
  }

  async getSecret(id: string): Promise<Uint8Array | null> {
    const r = (await this.q('SELECT wrapped FROM secrets WHERE id = $1', [id])).rows[0];
    return r ? new Uint8Array(r.wrapped) : null;
  }

  // ---- issue 17 §1: witnessed TEE counters (repository.ts)

  async paymentByRecordCounter(deviceId: string, recordCounter: number): Promise<PaymentRow | null> {
    return toPayment((await this.q("SELECT * FROM payments WHERE device_id = $1 AND record_counter = $2 AND record_sha256 <> '' LIMIT 1", [deviceId, recordCounter])).rows[0]);
  }

  async witnessedCounter(deviceId: string, name: string): Promise<number | null> {
    return (await this.q('SELECT value FROM device_counters WHERE device_id = $1 AND name = $2', [deviceId, name])).rows[0]?.value ?? null;
  }

  async witnessCounter(deviceId: string, name: string, value: number, strict: boolean): Promise<boolean> {
    // Compare-and-set in one statement: the row's lock orders concurrent witnesses of one counter.
    return (await this.q(`INSERT INTO device_counters (device_id, name, value) VALUES ($1, $2, $3)
                          ON CONFLICT (device_id, name) DO UPDATE SET value = excluded.value
                          WHERE device_counters.value ${strict ? '<' : '<='} excluded.value`, [deviceId, name, value])).rowCount === 1;
  }

  // ---- operators' console (issue 12 §1)

  async addClientRelease(r: ClientReleaseRow): Promise<boolean> {
    return (await this.q(`INSERT INTO client_releases (acquirer_id, name, version, sha256, allowed, allowed_ms, revoked_ms, reason)
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (acquirer_id, name, version) DO NOTHING`,
    [r.acquirerId, r.name, r.version, r.sha256, r.allowed, r.allowedMs, r.revokedMs, r.reason])).rowCount === 1;
  }

  async revokeClientRelease(acquirerId: string, name: string, version: string, revokedMs: number, reason: string): Promise<boolean> {
    return (await this.q(`UPDATE client_releases SET allowed = FALSE, revoked_ms = $1, reason = $2
                          WHERE acquirer_id = $3 AND name = $4 AND version = $5 AND allowed`, [revokedMs, reason, acquirerId, name, version])).rowCount === 1;
  }

  async listClientReleases(acquirerId: string): Promise<ClientReleaseRow[]> {
    return (await this.q('SELECT * FROM client_releases WHERE acquirer_id = $1 ORDER BY name, version', [acquirerId])).rows.map(toClientRelease);
  }

  async putOperator(o: OperatorRow): Promise<void> {
    await this.q(`INSERT INTO operators (username, acquirer_id, role, password_hash, created_ms, disabled) VALUES ($1, $2, $3, $4, $5, $6)
                  ON CONFLICT (username) DO UPDATE SET acquirer_id = excluded.acquirer_id, role = excluded.role, password_hash = excluded.password_hash, disabled = excluded.disabled`,
    [o.username, o.acquirerId, o.role, o.passwordHash, o.createdMs, o.disabled]);
  }

  async getOperator(username: string): Promise<OperatorRow | null> {
    return toOperator((await this.q('SELECT * FROM operators WHERE username = $1', [username])).rows[0]);
  }

  async listOperators(): Promise<OperatorRow[]> {
    return (await this.q('SELECT * FROM operators ORDER BY username')).rows.map((r) => toOperator(r)!);
  }

  async putConsoleSession(s: ConsoleSessionRow): Promise<void> {
    await this.q('INSERT INTO console_sessions (token_hash, username, acquirer_id, role, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6)',
      [s.tokenHash, s.username, s.acquirerId, s.role, s.createdMs, s.expiresMs]);
  }

  async getConsoleSession(tokenHash: string): Promise<ConsoleSessionRow | null> {
    return toConsoleSession((await this.q('SELECT * FROM console_sessions WHERE token_hash = $1', [tokenHash])).rows[0]);
  }

  async deleteConsoleSession(tokenHash: string): Promise<void> {
    await this.q('DELETE FROM console_sessions WHERE token_hash = $1', [tokenHash]);
  }

  async purgeConsoleSessions(beforeMs: number): Promise<number> {
    return (await this.q('DELETE FROM console_sessions WHERE expires_ms < $1', [beforeMs])).rowCount ?? 0;
  }

  async appendDeviceSignals(s: Omit<DeviceSignalsRow, 'id'>): Promise<number> {
    return (await this.q(`INSERT INTO device_signals (device_id, time_ms, source, ip, lat_e6, lon_e6, signals, measurements)
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [s.deviceId, s.timeMs, s.source, s.ip, s.latE6, s.lonE6, s.signals, s.measurements])).rows[0].id;
  }

  async deviceSignals(deviceId: string, limit = 100): Promise<DeviceSignalsRow[]> {
    return (await this.q('SELECT * FROM device_signals WHERE device_id = $1 ORDER BY id DESC LIMIT $2', [deviceId, limit])).rows.map((r) => ({
      id: r.id, deviceId: r.device_id, timeMs: r.time_ms, source: r.source, ip: r.ip, latE6: r.lat_e6, lonE6: r.lon_e6, signals: r.signals, measurements: r.measurements,
    })).reverse();
  }

  async searchPayments(q: PaymentSearch): Promise<PaymentRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => { args.push(v); return `$${args.length}`; };
    if (q.reference) where.push(`reference = ${arg(q.reference)}`);
    if (q.clientTransactionId) where.push(`client_transaction_id = ${arg(q.clientTransactionId)}`);
    if (q.deviceId) where.push(`device_id = ${arg(q.deviceId)}`);
    if (q.scope !== ALL_ACQUIRERS) { arg(q.scope); where.push(inScope(args.length)); }
    if (q.outcome === 'reversed') where.push("decision = 'approved' AND reversed_ms > 0");
    else if (q.outcome === 'approved') where.push("decision = 'approved' AND reversed_ms = 0");
    else if (q.outcome === 'declined') where.push("decision = 'declined'");
    if (q.fromMs !== undefined) where.push(`created_ms >= ${arg(q.fromMs)}`);
    if (q.toMs !== undefined) where.push(`created_ms < ${arg(q.toMs)}`);
    const sql = `SELECT * FROM payments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC LIMIT ${arg(Math.min(q.limit ?? 100, 1000))}`;
    return (await this.q(sql, args)).rows.map((r) => toPayment(r)!);
  }

  async paymentCounts(fromMs: number, toMs: number, bucketMs: number, scope: Scope) {
    const all = scope === ALL_ACQUIRERS;
    return (await this.q(`SELECT (created_ms / $1::bigint) * $1::bigint AS bucket,
                                 CASE WHEN decision = 'approved' AND reversed_ms > 0 THEN 'reversed' ELSE decision END AS outcome,
                                 reason, COUNT(*) AS n
                          FROM payments WHERE created_ms >= $2 AND created_ms < $3 ${all ? '' : `AND ${inScope(4)}`}
                          GROUP BY bucket, outcome, reason ORDER BY bucket`, all ? [bucketMs, fromMs, toMs] : [bucketMs, fromMs, toMs, scope])).rows
      .map((r) => ({ bucketMs: r.bucket as number, outcome: r.outcome as 'approved' | 'declined' | 'reversed', reason: r.reason as number, n: r.n as number }));
  }

  async verdictCounts(fromMs: number, toMs: number, bucketMs: number, scope: Scope) {
    const all = scope === ALL_ACQUIRERS;
    return (await this.q(`SELECT (time_ms / $1::bigint) * $1::bigint AS bucket, verdict, COUNT(*) AS n FROM history
                          WHERE kind = 'verdict' AND time_ms >= $2 AND time_ms < $3 ${all ? '' : `AND ${inScope(4)}`}
                          GROUP BY bucket, verdict ORDER BY bucket`, all ? [bucketMs, fromMs, toMs] : [bucketMs, fromMs, toMs, scope])).rows
      .map((r) => ({ bucketMs: r.bucket as number, verdict: r.verdict as VerdictName, n: r.n as number }));
  }

  async listNotices(q: NoticeSearch) {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => { args.push(v); return `$${args.length}`; };
    if (q.afterId) where.push(`id > ${arg(q.afterId)}`);
    if (q.deviceId) where.push(`device_id = ${arg(q.deviceId)}`);
    if (q.scope !== ALL_ACQUIRERS) { arg(q.scope); where.push(inScope(args.length)); }
    if (q.types?.length) where.push(`type = ANY(${arg(q.types)})`);
    const sql = `SELECT * FROM notices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${arg(Math.min(q.limit ?? 100, 1000))}`;
    return (await this.q(sql, args)).rows.map((r) => ({
      id: r.id as number, deviceId: r.device_id as string, type: r.type, reason: r.reason as string, createdMs: r.created_ms as number,
      policyVersion: r.policy_version as number, delivered: !!r.delivered,
    }));
  }

  async listPolicies(acquirerId: string) {
    return (await this.q('SELECT version, bytes, created_ms FROM policies WHERE acquirer_id = $1 ORDER BY version', [acquirerId])).rows
      .map((r) => ({ version: r.version as number, bytes: new Uint8Array(r.bytes), createdMs: r.created_ms as number }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool?.end().catch(() => undefined);
  }
}
