// A primary, a synchronous standby and the pg_auto_failover monitor that switches them (Debian
// postgresql-15-auto-failover, `pg_autoctl`), on loopback ports and temporary directories, for the
// failover test and the operators' set-up in docs/operations.md. The monitor's health checks are
// made quicker than their defaults (1 s period instead of 5 s, a node unhealthy after 5 s instead
// of 20 s) so that a test sees the switch in seconds — not quicker still: on loaded cores a standby
// that misses a check is taken out of synchronous replication, and a primary that dies then has no
// standby known to hold every acknowledged commit, so (rightly) none is promoted; the rest is pg_auto_failover's own default:
// the standby is synchronous (synchronous_standby_names = ANY 1 (...), synchronous_commit = on),
// so a commit the back end acknowledged is on both. Runs as `postgres` when we are root.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, postgresBin } from './postgres.ts';

const asRoot = () => userInfo().uid === 0;

export const pgAutoctl = (): string | null => ['/usr/bin/pg_autoctl', '/usr/lib/postgresql/15/bin/pg_autoctl'].find((p) => existsSync(p)) ?? null;

/** '' if pg_auto_failover can run here, else why not; TRUSTTAP_REQUIRE_POSTGRES=1 makes it an error. */
export function autoFailoverMissing(): string {
  let why = '';
  if (!postgresBin()) why = 'PostgreSQL server binaries not found (Debian: apt-get install postgresql)';
  else if (!pgAutoctl()) why = 'pg_autoctl not found (Debian: apt-get install postgresql-15-auto-failover)';
  if (why && /^(1|true|yes)$/i.test(process.env.TRUSTTAP_REQUIRE_POSTGRES ?? '')) throw new Error(`${why} (TRUSTTAP_REQUIRE_POSTGRES is set: failing instead of skipping)`);
  return why;
}

export interface AutoFailoverNode { name: string; port: number; dir: string; keeper: ChildProcess }

export interface AutoFailover {
  monitorUrl: string;
  nodes: AutoFailoverNode[];
  /** postgres://trusttap@127.0.0.1:pA,127.0.0.1:pB/trusttap?target_session_attrs=read-write */
  url: string;
  /** Node name → state the monitor last heard it report. */
  states(): Promise<Record<string, string>>;
  /** SIGKILL of a node's keeper and its PostgreSQL: the host's death, as near as one machine gets. */
  kill(node: AutoFailoverNode): void;
  destroy(): Promise<void>;
}

export async function startAutoFailover(): Promise<AutoFailover> {
  const root = mkdtempSync(join(tmpdir(), 'tt-paf-'));
  const env = {
    ...process.env, XDG_CONFIG_HOME: join(root, 'config'), XDG_DATA_HOME: join(root, 'data'), XDG_RUNTIME_DIR: join(root, 'run'),
    PATH: `${postgresBin()}:${process.env.PATH}`, PG_CONFIG: join(postgresBin()!, 'pg_config'),
  };
  if (asRoot()) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout);
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout);
    chownSync(root, uid, gid);
  }
  const argv = (args: string[]): [string, string[]] => {
    const envArgs = ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR', 'PATH', 'PG_CONFIG'].map((k) => `${k}=${(env as Record<string, string>)[k]}`);
    return asRoot() ? ['runuser', ['-u', 'postgres', '--', 'env', ...envArgs, pgAutoctl()!, ...args]] : [pgAutoctl()!, args];
  };
  const run = (args: string[]) => {
    const [cmd, a] = argv(args);
    const r = spawnSync(cmd, a, { encoding: 'utf8', env, timeout: 180_000 });
    if (r.status !== 0) throw new Error(`pg_autoctl ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  // Each `pg_autoctl run` in its own process group, so that killing the group takes the keeper and
  // the PostgreSQL it supervises together.
  const keepers: ChildProcess[] = [];
  const keep = (dir: string) => {
    const [cmd, a] = argv(['run', '--pgdata', dir]);
    const c = spawn(cmd, a, { env, detached: true, stdio: 'ignore' });
    keepers.push(c);
    return c;
  };
  const sql = async (url: string, text: string) => {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => undefined);
    await c.connect();
    try { return (await c.query(text)).rows; } finally { await c.end(); }
  };

  const monPort = await freePort();
  const monDir = join(root, 'monitor');
  run(['create', 'monitor', '--pgdata', monDir, '--pgport', String(monPort), '--hostname', '127.0.0.1', '--listen', '127.0.0.1', '--auth', 'trust', '--no-ssl']);
  appendFileSync(join(monDir, 'postgresql.conf'), ['', '# trusttap test: quicker health checks than the defaults',
    'pgautofailover.health_check_period = 1000', 'pgautofailover.health_check_timeout = 2000', 'pgautofailover.health_check_max_retries = 2',
    'pgautofailover.health_check_retry_delay = 500', 'pgautofailover.node_considered_unhealthy_timeout = 5000',
    'pgautofailover.primary_demote_timeout = 3000', ''].join('\n'));
  keep(monDir);
  const monitorUrl = `postgres://autoctl_node@127.0.0.1:${monPort}/pg_auto_failover?sslmode=disable`;
  await waitFor(async () => { await sql(monitorUrl, 'SELECT 1'); return true; }, 30_000, 'the monitor to accept connections');
  const nodes: AutoFailoverNode[] = [];
  for (const name of ['node_a', 'node_b']) {
    const port = await freePort();
    const dir = join(root, name);
    run(['create', 'postgres', '--pgdata', dir, '--pgport', String(port), '--hostname', '127.0.0.1', '--listen', '127.0.0.1', '--auth', 'trust', '--no-ssl',
      '--monitor', monitorUrl, '--username', 'trusttap', '--dbname', 'trusttap', '--name', name]);
    nodes.push({ name, port, dir, keeper: keep(dir) });
    if (name === 'node_a') await waitFor(async () => (await states())[name] === 'single', 60_000, `${name} to run alone`);
  }
  async function states(): Promise<Record<string, string>> {
    const rows = await sql(monitorUrl, 'SELECT nodename, reportedstate FROM pgautofailover.node');
    return Object.fromEntries(rows.map((r) => [r.nodename as string, r.reportedstate as string]));
  }
  await waitFor(async () => { const s = await states(); return s.node_a === 'primary' && s.node_b === 'secondary'; }, 120_000, 'primary and synchronous secondary');
  const kill = (n: AutoFailoverNode) => {
    try { process.kill(-n.keeper.pid!, 'SIGKILL'); } catch { /* gone */ }
    const pidFile = join(n.dir, 'postmaster.pid');
    if (existsSync(pidFile)) { try { process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGKILL'); } catch { /* gone */ } }
  };
  return {
    monitorUrl, nodes,
    url: `postgres://trusttap@${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}/trusttap?target_session_attrs=read-write`,
    states, kill,
    async destroy() {
      for (const c of keepers) { try { process.kill(-c.pid!, 'SIGTERM'); } catch { /* gone */ } }
      await new Promise((r) => setTimeout(r, 2000));
      for (const c of keepers) { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } }
      for (const d of [monDir, ...nodes.map((n) => n.dir)]) {
        const pidFile = join(d, 'postmaster.pid');
        if (existsSync(pidFile)) { try { process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGKILL'); } catch { /* gone */ } }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try { if (await check()) return; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
