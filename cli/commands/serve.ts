// `trusttap serve [--port N] [--data DIR] [--build DIR] [--admin-token T] [--sync full|normal]`:
// runs the acquirer back end (backend/) on 127.0.0.1 until SIGINT/SIGTERM. The TA allowlist comes
// from the build's signed manifest; the trusted OEM root is the test root of sim/oem/.
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackend } from '../../backend/http/server.ts';
import { DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/loader/from-build.ts';
import { TEST_OEM_ROOT } from '../../sim/oem/index.ts';

export const summary = 'run the back end on 127.0.0.1: serve [--port 8443] [--data DIR] [--build build/] [--admin-token T]';

const USAGE = 'usage: trusttap serve [--port N] [--data DIR] [--build DIR] [--admin-token TOKEN] [--sync full|normal] [--quiet]\n' +
  '  --port         TCP port on 127.0.0.1 (default 8443; 0 = any free port)\n' +
  '  --data         back-end state: SQLite database, HSM master key (default: a new temporary directory)\n' +
  '  --build        build directory whose signed manifest is the TA allowlist (default build/)\n' +
  '  --admin-token  bearer token of the back-office API (default: $TRUSTTAP_ADMIN_TOKEN, else a random one, printed)';

export async function run(args: string[]): Promise<number> {
  const o: Record<string, string> = {};
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const x = args[i];
    if (x === '--quiet') { quiet = true; continue; }
    if (!['--port', '--data', '--build', '--admin-token', '--sync'].includes(x) || args[i + 1] === undefined) {
      console.error(`trusttap serve: unexpected argument ${x}\n${USAGE}`);
      return 2;
    }
    o[x.slice(2)] = args[++i];
  }
  const port = o.port !== undefined ? Number(o.port) : 8443;
  if (!Number.isInteger(port) || port < 0 || port > 65535) { console.error(`trusttap serve: bad port ${o.port}`); return 2; }
  if (o.sync && o.sync !== 'full' && o.sync !== 'normal') { console.error('trusttap serve: --sync is full or normal'); return 2; }
  const dataDir = o.data ?? mkdtempSync(join(tmpdir(), 'trusttap-backend-'));
  const build = o.build ?? DEFAULT_BUILD_DIR;
  const manifests = existsSync(join(build, 'manifest.json'))
    ? [{ bytes: new Uint8Array(readFileSync(join(build, 'manifest.json'))), signature: readFileSync(join(build, 'manifest.sig'), 'utf8') }]
    : [];
  if (!manifests.length) console.error(`trusttap serve: no manifest in ${build}: no TA is allowed until one is uploaded (run npm run build)`);
  const be = await startBackend({
    dataDir, port, adminToken: o['admin-token'] ?? process.env.TRUSTTAP_ADMIN_TOKEN,
    oemRoots: [{ name: TEST_OEM_ROOT.name, publicKey: TEST_OEM_ROOT.publicKey }],
    manifestKeyPem: readFileSync(process.env.TRUSTTAP_MANIFEST_KEY ?? DEV_MANIFEST_PUBLIC_KEY),
    manifests, sqlite: { synchronous: o.sync === 'normal' ? 'NORMAL' : 'FULL' },
    log: quiet ? undefined : (line) => console.error(line),
  });
  console.log(`trusttap back end listening on ${be.url} (data ${dataDir})`);
  if (!o['admin-token'] && !process.env.TRUSTTAP_ADMIN_TOKEN) console.log(`admin token: ${be.adminToken}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await be.close();
  return 0;
}
