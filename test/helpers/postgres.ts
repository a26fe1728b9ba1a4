// Throwaway PostgreSQL clusters for the tests: initdb + pg_ctl from Debian's postgresql (15 or
// whatever /usr/lib/postgresql holds) on a temporary directory and a free loopback port, removed
// when stopped. initdb refuses to run as root (CI runs as root), so there the cluster runs as the
// unprivileged `postgres` user the Debian package creates (runuser). Without the binaries the
// PostgreSQL tests skip with the reason; TRUSTTAP_REQUIRE_POSTGRES=1 (.ci/run) fails them instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const postgresRequired = () => /^(1|true|yes)$/i.test(process.env.TRUSTTAP_REQUIRE_POSTGRES ?? '');

/** The directory holding initdb and pg_ctl, or null. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  return null;
}

/** Why the PostgreSQL tests cannot run here ('' if they can); throws under TRUSTTAP_REQUIRE_POSTGRES=1. */
export function postgresMissing(): string {
  let why = '';
  if (!postgresBin()) why = 'PostgreSQL server binaries not found under /usr/lib/postgresql (Debian: apt-get install postgresql)';
  else if (userInfo().uid === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) why = 'running as root and there is no `postgres` user to run the cluster as';
  if (why && postgresRequired()) throw new Error(`${why} (TRUSTTAP_REQUIRE_POSTGRES is set: failing instead of skipping)`);
  return why;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

const asRoot = () => userInfo().uid === 0;

/** Runs a PostgreSQL binary, as `postgres` when we are root. */
function pgRun(bin: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  const exe = join(postgresBin()!, bin);
  const [cmd, argv] = asRoot() ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${bin} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

function ownedTempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  if (asRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(d, uid, gid);
  }
  chmodSync(d, 0o700);
  return d;
}

export interface PgCluster {
  port: number;
  dir: string;
  /** postgres://trusttap@127.0.0.1:port/trusttap */
  url: string;
  /** Stops the server (fast shutdown) — or 'immediate', a crash-like stop. */
  stop(mode?: 'fast' | 'immediate'): void;
  start(): void;
  /** SIGKILL of the postmaster: the host's death, as near as one machine gets. */
  kill(): void;
  /** Stops it and removes its files. */
  destroy(): void;
  /** Runs SQL through psql-free means: a one-off client (for the tests' checks). */
  log(): string;
}

export interface ClusterOptions {
  /** Extra postgresql.conf lines. */
  conf?: string[];
  /** Make it a streaming standby of this primary instead of initdb. */
  standbyOf?: PgCluster;
  /** The standby's application_name (synchronous_standby_names on the primary). */
  name?: string;
}

/** Starts a cluster: initdb (user trusttap, trust auth on loopback) or a base backup of a primary. */
export async function startCluster(o: ClusterOptions = {}): Promise<PgCluster> {
  const why = postgresMissing();
  if (why) throw new Error(why);
  const port = await freePort();
  const root = ownedTempDir('tt-pg-');
  const dir = join(root, 'data');
  const logFile = join(root, 'server.log');
  if (o.standbyOf) {
    pgRun('pg_basebackup', ['-h', '127.0.0.1', '-p', String(o.standbyOf.port), '-U', 'trusttap', '-D', dir, '-X', 'stream', '-R', '-c', 'fast',
      '-d', `host=127.0.0.1 port=${o.standbyOf.port} user=trusttap application_name=${o.name ?? 'standby'}`]);
  } else {
    pgRun('initdb', ['-D', dir, '-U', 'trusttap', '--auth=trust', '-E', 'UTF8', '--no-instructions', '--locale=C']);
    appendFileSync(join(dir, 'pg_hba.conf'), 'host replication trusttap 127.0.0.1/32 trust\n');
  }
  const conf = [
    `port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${root}'`,
    'max_connections = 200', 'shared_buffers = 64MB', 'wal_level = replica', 'max_wal_senders = 5', 'hot_standby = on',
    'wal_keep_size = 256MB', ...(o.conf ?? []),
  ];
  appendFileSync(join(dir, 'postgresql.conf'), `\n# trusttap test cluster\n${conf.join('\n')}\n`);
  if (o.standbyOf) writeFileSync(join(dir, 'standby.signal'), '');
  if (asRoot()) execFileSync('chown', ['-R', 'postgres:postgres', root]);
  const c: PgCluster = {
    port, dir,
    url: `postgres://trusttap@127.0.0.1:${port}/trusttap`,
    start() { pgRun('pg_ctl', ['-D', dir, '-l', logFile, '-w', '-t', '60', 'start']); },
    stop(mode = 'fast') { pgRun('pg_ctl', ['-D', dir, '-m', mode, '-w', 'stop'], { allowFail: true }); },
    kill() {
      const pid = Number((spawnSync('head', ['-1', join(dir, 'postmaster.pid')], { encoding: 'utf8' }).stdout || '0').trim());
      if (pid > 0) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ } }
    },
    destroy() { c.stop('immediate'); rmSync(root, { recursive: true, force: true }); },
    log() { return spawnSync('cat', [logFile], { encoding: 'utf8' }).stdout; },
  };
  c.start();
  if (!o.standbyOf) pgRun('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'trusttap', 'trusttap']);
  return c;
}

/** A fresh database on a running cluster (one per test file or suite, so they do not see each other). */
export function createDatabase(c: PgCluster, name: string): string {
  pgRun('createdb', ['-h', '127.0.0.1', '-p', String(c.port), '-U', 'trusttap', name]);
  return `postgres://trusttap@127.0.0.1:${c.port}/${name}`;
}

/** Promotes a standby to primary (PostgreSQL's own pg_ctl promote). */
export function promote(c: PgCluster): void {
  pgRun('pg_ctl', ['-D', c.dir, '-w', '-t', '60', 'promote']);
}

/** A fresh, empty database on the cluster behind baseUrl (by SQL: no binaries needed). */
export async function freshDatabase(baseUrl: string): Promise<string> {
  const { default: pg } = await import('pg');
  const name = `tt_${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return baseUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
}
