// examples/oem-runtime from the checkout: the phone maker's RuntimeFactory over its own framed
// stdio transport passes the whole kit with plain node (plus tsx and source-alias.mjs standing in
// for the package), printing one line per case and the closing line, and exiting 0.
import { test, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('examples/oem-runtime passes the conformance kit over its own transport', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/examples/source-alias.mjs', 'examples/oem-runtime/index.mjs'], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  const lines = r.stdout.trim().split('\n');
  const fails = lines.filter((l) => l.startsWith('FAIL'));
  expect(fails, r.stderr).toEqual([]);
  expect(lines).toContain('PASS  TEE runtime conformance: OEM runtime (child process, framed stdio) › a TA that runs away is stopped by the watchdog (worker isolation)');
  expect(lines.filter((l) => l.startsWith('SKIP'))).toEqual([
    'SKIP  trusted UI: OEM runtime (child process, framed stdio): the factory does not declare trustedUi (start(tas, dataDir, ui) showing entries on ui)',
  ]);
  expect(lines.filter((l) => l.startsWith('PASS  signed build loading')).length).toBe(4);
  // 9 Wycheproof files (Ed25519 among them) + the SM2 and Ed25519 edge cases + the block-cipher
  // answers and cipher_once against the operation handles (host ABI 1.3)
  expect(lines.filter((l) => l.startsWith('PASS  crypto')).length).toBe(13);
  const passed = lines.filter((l) => l.startsWith('PASS')).length;
  expect(lines.at(-1)).toBe(`${passed} passed, 0 failed, 1 skipped`);
  expect(r.status).toBe(0);
}, 600_000); // every kit case that starts a runtime spawns a TEE process: ~95 s alone, more on a busy machine
