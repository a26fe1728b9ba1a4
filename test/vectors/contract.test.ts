// The vector runner's contract (test/vectors/published/README.md): `npm run vectors -- FILE` runs every
// vector of every published file through TrustTap's code and closes with
// `N passed, M failed, K skipped`, exiting non-zero on any failure or skip.
import { test, expect } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readVectorFile, runVectors, loadOps } from './runner.ts';
import { PUBLISHED_DIR } from './published.ts';

const dir = PUBLISHED_DIR;
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

test('every published vector file is present', () => {
  expect(files).toEqual(expect.arrayContaining(['dukpt-aes.json', 'dukpt-tdes.json', 'emv-arqc.json', 'mac.json', 'pinblock.json', 'sm.json', 'tlv.json', 'tr31.json']));
});

test.each(files)('%s: every vector passes, none skipped', async (f) => {
  const r = await runVectors(readVectorFile(join(dir, f)), await loadOps());
  expect(r.failures).toEqual([]);
  expect(r.skippedOps).toEqual([]);
  expect(r.passed).toBeGreaterThan(0);
});

test('the CLI prints the closing line and exits non-zero on failure', () => {
  const bin = new URL('../../bin/trusttap.mjs', import.meta.url).pathname;
  const ok = spawnSync(process.execPath, [bin, 'vectors', join(dir, 'tlv.json')], { encoding: 'utf8' });
  expect(ok.stdout.trim().split('\n').pop()).toMatch(/^\d+ passed, 0 failed, 0 skipped$/);
  expect(ok.status).toBe(0);
  const bad = spawnSync(process.execPath, [bin, 'vectors', new URL('./fixtures/wrong.json', import.meta.url).pathname], { encoding: 'utf8' });
  expect(bad.stdout).toMatch(/FAIL wrong-1 /);
  expect(bad.stdout).toMatch(/SKIP .*'no_such_operation'/);
  expect(bad.stdout.trim().split('\n').pop()).toBe('0 passed, 1 failed, 1 skipped');
  expect(bad.status).toBe(1);
});
