// Issue 16 §2: the REE client's shipped bundle (build/client-bundle.ts) — reproducible, recorded in
// the signed manifest, shipped beside the TAs — and `trusttap audit build` catching a bundle that
// differs from the manifest.
import { test, expect } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleClient, CLIENT_ENTRY } from '../../build/client-bundle.ts';
import { auditBuild } from '../../build/audit.ts';
import { PROJECT_ROOT, BUILD_DIR, DEV_PUBLIC_KEY_PATH } from '../../build/paths.ts';
import { CLIENT_FILE, CLIENT_NAME, parseManifest, sha256Hex } from '../../common/manifest.ts';

test('the bundle is the same bytes every time, and the signed manifest names exactly them', async () => {
  const outs = [mkdtempSync(join(tmpdir(), 'tt-cb-')), mkdtempSync(join(tmpdir(), 'tt-cb-'))];
  const entries = [];
  for (const out of outs) entries.push(await bundleClient(PROJECT_ROOT, out, (p, d) => writeFileSync(p, d)));
  expect(entries[0]).toEqual(entries[1]);
  expect(readFileSync(join(outs[0]!, CLIENT_FILE))).toEqual(readFileSync(join(outs[1]!, CLIENT_FILE)));
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
  expect(entries[0]).toMatchObject({ name: CLIENT_NAME, version: pkg.version, file: CLIENT_FILE, entry: CLIENT_ENTRY, bundler: expect.stringMatching(/^esbuild \d/) });
  expect(entries[0]!.sha256).toBe(sha256Hex(readFileSync(join(outs[0]!, CLIENT_FILE))));
  // The build's manifest (npm test builds first) records this very bundle.
  expect(parseManifest(readFileSync(join(BUILD_DIR, 'manifest.json'))).client).toEqual(entries[0]);
});

test('audit: an altered client bundle is a HASH_MISMATCH of the client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-cb-audit-'));
  cpSync(BUILD_DIR, dir, { recursive: true, filter: (src) => !/[/\\](out|conformance|console)([/\\]|$)/.test(src.slice(BUILD_DIR.length)) });
  const pub = readFileSync(DEV_PUBLIC_KEY_PATH, 'utf8');
  const good = auditBuild(dir, pub);
  expect(good.client).toMatchObject({ name: CLIENT_NAME, hash: 'ok' });
  expect(good.problems.filter((p) => p.ta === 'client')).toEqual([]);
  appendFileSync(join(dir, CLIENT_FILE), '\n/* injected */');
  const bad = auditBuild(dir, pub);
  expect(bad.ok).toBe(false);
  expect(bad.client?.hash).toBe('mismatch');
  expect(bad.problems.filter((p) => p.ta === 'client').map((p) => p.code)).toEqual(['HASH_MISMATCH']);
});
