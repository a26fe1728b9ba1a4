// `trusttap serve [--port N] [--data DIR] [--build DIR] [--admin-token T] [--sync full|normal]`:
// runs the acquirer back end (backend/) on 127.0.0.1 until SIGINT/SIGTERM, one JSON log line per
// request on stderr (pino), /metrics for the --metrics-token bearer (docs/operations.md); --cors-origin opens
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
import { defineCommand, readUserFile, UsageError, UserError, type CommandSpec } from '../args.ts';

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
  try {
    be = await startBackend({
      dataDir, port, adminToken: opts['admin-token'] ?? process.env.TRUSTTAP_ADMIN_TOKEN,
      oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
      manifestKeyPem, manifests, corsOrigins, consoleSecureCookies: flags.has('console-secure-cookie'), sqlite: { synchronous: opts.sync === 'normal' ? 'NORMAL' : 'FULL' },
      metricsToken: opts['metrics-token'] || process.env.TRUSTTAP_METRICS_TOKEN || undefined,
      // Buffered, written by sonic-boom off the request path; flushed at exit.
      logger: flags.has('quiet') ? undefined : createLogger({ dest: pino.destination({ dest: 2, sync: false }), level: (opts['log-level'] ?? 'info') as 'info' }),
    });
  } catch (e) {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    cleanup();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`port ${port} on 127.0.0.1 is in use (another trusttap serve?); choose another with --port N, or --port 0 for any free one`);
    if (code === 'EACCES') throw new UserError(`not allowed to listen on port ${port}; choose one above 1023 with --port N`);
    if (code) throw new UserError(`cannot start the back end: ${(e as Error).message}`);
    throw e;
  }
  console.log(`trusttap back end listening on ${be.url} (data ${dataDir}${temporary ? ', removed at exit' : ''})`);
  if (!opts['admin-token'] && !process.env.TRUSTTAP_ADMIN_TOKEN) console.log(`admin token: ${be.adminToken}`);
  console.log(`operators' console: ${be.url}/console (sign in with the admin token or an account of trusttap operator add)`);
  if (!opts['metrics-token'] && !process.env.TRUSTTAP_METRICS_TOKEN) console.log(`metrics token: ${be.metricsToken}`);
  await stopped;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await be.close();
  cleanup();
  return 0;
});
