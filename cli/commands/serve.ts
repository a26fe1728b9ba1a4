// `trusttap serve [--port N] [--data DIR] [--build DIR] [--admin-token T] [--sync full|normal]
// [--db postgres://… --master-key-file FILE]`: runs the acquirer back end (backend/) on 127.0.0.1
// until SIGINT/SIGTERM (SIGTERM drains: requests in flight finish, new ones get 503, then exit).
// --db postgres://… puts the state in PostgreSQL (backend/store/postgres.ts) so that several
// `serve` processes — on one machine or many — serve the same devices; they then share the HSM's
// master key (--master-key-file or $TRUSTTAP_MASTER_KEY), under which the BDKs and the signing
// keys are held in the database. One JSON log line per request on stderr (pino), /metrics for the
// --metrics-token bearer (docs/operations.md); --cors-origin opens
// the device API to web origins (a WebView app's page, backend/http/cors.ts). The operators'
// console is at /console (backend/console/). The TA allowlist comes
// from the build's signed manifest; the trusted OEM root is the test root of sim/oem/. Without
// --data the state lives in a temporary directory that is removed when the server stops.
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend, type Backend } from '../../backend/http/server.ts';
import { parseOrigins } from '../../backend/http/cors.ts';
import { createLogger } from '../../backend/http/log.ts';
import { pino } from 'pino';
import { DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/loader/from-build.ts';
import { TEST_OEM_ROOT } from '../../sim/oem/index.ts';
import { PostgresRepository, PostgresConfigError } from '../../backend/store/postgres.ts';
import { HsmError } from '../../backend/hsm/software-hsm.ts';
import { defineCommand, readUserFile, UsageError, UserError, type CommandSpec } from '../args.ts';

/** The request log reaches stderr at least this often (in between, in writes of 4 KiB). */
const LOG_FLUSH_MS = 200;

/** The master key from --master-key-file (32 raw bytes or 64 hex digits) or $TRUSTTAP_MASTER_KEY. */
async function readMasterKey(file: string | undefined): Promise<Uint8Array | undefined> {
  let raw: Buffer | undefined;
  if (file !== undefined) raw = Buffer.from(await readUserFile(file, 'master key'));
  else if (process.env.TRUSTTAP_MASTER_KEY) raw = Buffer.from(process.env.TRUSTTAP_MASTER_KEY);
  if (!raw) return undefined;
  if (raw.length === 32) return new Uint8Array(raw);
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  throw new UsageError('the master key must be 32 bytes or 64 hex digits');
}

export const spec: CommandSpec = {
  name: 'serve', summary: 'run the back end on 127.0.0.1: serve [--port 8443] [--data DIR] [--build build/] [--admin-token T]',
  options: [
    { name: 'port', value: 'N', help: 'TCP port on 127.0.0.1; 0 = any free port', default: '8443' },
    { name: 'data', value: 'DIR', help: 'back-end state (SQLite database, HSM master key), kept after exit', default: 'a temporary directory, removed at exit' },
    { name: 'build', value: 'DIR', help: 'build directory whose signed manifest is the TA allowlist', default: 'build/' },
    { name: 'admin-token', value: 'TOKEN', help: 'bearer token of the back-office API', default: '$TRUSTTAP_ADMIN_TOKEN, else a random one, printed' },
    { name: 'sync', value: 'MODE', choices: ['full', 'normal'], help: 'SQLite synchronous mode', default: 'full' },
    { name: 'cors-origin', value: 'ORIGIN,...', help: 'web origins whose pages may call the device API (CORS)\ne.g. https://localhost,capacitor://localhost for a WebView app', default: 'none' },
    { name: 'console-secure-cookie', help: "mark the operators' console session cookie Secure (TLS ends at a proxy in front);\nwithout it the cookie is Secure only on a TLS connection" },
    { name: 'db', value: 'URL', help: 'where the state lives: sqlite (in --data) or postgres://user@host:port[,host2:port2]/db[?target_session_attrs=read-write]\n(several hosts: the writable one is used, and found again after a failover)', default: '$TRUSTTAP_DB, else sqlite' },
    { name: 'master-key-file', value: 'FILE', help: 'the HSM master key (32 bytes, or 64 hex digits), the same for every node of one database', default: '$TRUSTTAP_MASTER_KEY (64 hex digits), else DIR/hsm/master.key (made on first start; SQLite only)' },
    { name: 'metrics-token', value: 'TOKEN', help: 'bearer token that may read GET /metrics (Prometheus)', default: '$TRUSTTAP_METRICS_TOKEN, else a random one, printed' },
    { name: 'log-level', value: 'LEVEL', choices: ['debug', 'info', 'warn', 'error'], help: 'least level of the JSON log lines on stderr', default: 'info' },
    { name: 'quiet', help: 'no request log on stderr' },
  ],
  exitCodes: [[0, 'stopped by SIGINT/SIGTERM'], [1, 'could not start (port in use, unreadable state)'], [2, 'usage error']],
};
export const summary = spec.summary;

export const run = defineCommand(spec, async ({ opts, flags }) => {
  const port = opts.port !== undefined ? Number(opts.port) : 8443;
  if (!/^\d+$/.test(opts.port ?? '0') || port > 65535) throw new UsageError(`--port must be 0..65535 (got '${opts.port}')`);
  let corsOrigins: string[] = [];
  try { if (opts['cors-origin'] !== undefined) corsOrigins = parseOrigins(opts['cors-origin']); } catch (e) { throw new UsageError(`--cors-origin: ${(e as Error).message}`); }
  const db = opts.db ?? process.env.TRUSTTAP_DB ?? 'sqlite';
  if (db !== 'sqlite' && !/^postgres(ql)?:\/\//.test(db)) throw new UsageError(`--db must be sqlite or a postgres:// URL (got '${db}')`);
  const masterKey = await readMasterKey(opts['master-key-file']);
  if (db !== 'sqlite' && !masterKey) {
    throw new UsageError('--db postgres://… needs the master key every node shares: --master-key-file FILE or TRUSTTAP_MASTER_KEY (64 hex digits)');
  }
  const build = opts.build ?? DEFAULT_BUILD_DIR;
  const manifests = existsSync(join(build, 'manifest.json'))
    ? [{ bytes: new Uint8Array(readFileSync(join(build, 'manifest.json'))), signature: readFileSync(join(build, 'manifest.sig'), 'utf8') }]
    : [];
  if (!manifests.length) console.error(`trusttap serve: no manifest in ${build}: no TA is allowed until one is uploaded (run npm run build)`);
  const manifestKeyPem = await readUserFile(process.env.TRUSTTAP_MANIFEST_KEY ?? DEV_MANIFEST_PUBLIC_KEY, 'manifest key');
  const temporary = opts.data === undefined;
  const dataDir = opts.data ?? mkdtempSync(join(tmpdir(), 'trusttap-backend-'));
  const cleanup = () => { if (temporary) rmSync(dataDir, { recursive: true, force: true }); };
  // Listening for the signals before anything is printed: whoever reads "listening" may stop
  // the server at once, and an unhandled SIGTERM would leave the temporary directory behind.
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => { stop = resolve; });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let be: Backend;
  let repo: PostgresRepository | undefined;
  let logDest: ReturnType<typeof pino.destination> | undefined;
  let logFlush: NodeJS.Timeout | undefined;
  try {
    repo = db === 'sqlite' ? undefined : await PostgresRepository.open(db, { log: (l) => console.error(l) });
    if (!flags.has('quiet')) {
      logDest = pino.destination({ dest: 2, sync: false, minLength: 4096 });
      const d = logDest;
      logFlush = setInterval(() => { try { d.flush(); } catch { /* closed at exit */ } }, LOG_FLUSH_MS);
      logFlush.unref();
    }
    be = await startBackend({
      repo, masterKey,
      dataDir, port, adminToken: opts['admin-token'] ?? process.env.TRUSTTAP_ADMIN_TOKEN,
      oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
      manifestKeyPem, manifests, corsOrigins, consoleSecureCookies: flags.has('console-secure-cookie'), sqlite: { synchronous: opts.sync === 'normal' ? 'NORMAL' : 'FULL' },
      metricsToken: opts['metrics-token'] || process.env.TRUSTTAP_METRICS_TOKEN || undefined,
      // Buffered, written by sonic-boom off the request path in writes of 4 KiB or every
      // LOG_FLUSH_MS (one write per line cost a system call and a thread-pool hand-off per
      // request); flushed at exit. A kill -9 loses at most the lines of the last LOG_FLUSH_MS.
      logger: logDest ? createLogger({ dest: logDest, level: (opts['log-level'] ?? 'info') as 'info' }) : undefined,
    });
  } catch (e) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await repo?.close();
    clearInterval(logFlush);
    logDest?.flushSync();
    cleanup();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`port ${port} on 127.0.0.1 is in use (another trusttap serve?); choose another with --port N, or --port 0 for any free one`);
    if (code === 'EACCES') throw new UserError(`not allowed to listen on port ${port}; choose one above 1023 with --port N`);
    if (e instanceof HsmError) throw new UserError(`cannot start the back end: ${(e as Error).message} (is it the master key the other nodes use?)`);
    if (code || e instanceof PostgresConfigError) throw new UserError(`cannot start the back end: ${(e as Error).message}`);
    throw e;
  }
  const store = be.service.repo instanceof PostgresRepository ? `PostgreSQL ${be.service.repo.host}` : `data ${dataDir}`;
  console.log(`trusttap back end listening on ${be.url} (${store}${temporary && db === 'sqlite' ? ', removed at exit' : ''})`);
  if (!opts['admin-token'] && !process.env.TRUSTTAP_ADMIN_TOKEN) console.log(`admin token: ${be.adminToken}`);
  console.log(`operators' console: ${be.url}/console (sign in with the admin token or an account of trusttap operator add)`);
  if (!opts['metrics-token'] && !process.env.TRUSTTAP_METRICS_TOKEN) console.log(`metrics token: ${be.metricsToken}`);
  await stopped;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await be.close();
  clearInterval(logFlush);
  logDest?.flushSync(); // the lines of the last requests, before the process ends
  cleanup();
  return 0;
});
