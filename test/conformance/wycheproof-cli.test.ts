// `trusttap vectors` reads Wycheproof's schema too, with the same contract (FAIL lines, closing
// `N passed, M failed, K skipped`, non-zero exit on a failure or skip), on either runtime.
import { test, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WYCHEPROOF_DIR } from '../vectors/published.ts';
import { onCHost } from './c-host-gate.ts';

const bin = new URL('../../bin/trusttap.mjs', import.meta.url).pathname;
const vectors = (...args: string[]) => spawnSync(process.execPath, [bin, 'vectors', ...args], { encoding: 'utf8' });

test('Wycheproof files run through the reference runtime\'s host crypto (Ed25519 through tee.eddsa_verify); a wrong tag is a FAIL line; a schema with no host primitive is skipped', () => {
  const j = JSON.parse(readFileSync(join(WYCHEPROOF_DIR, 'hmac_sm3_test.json'), 'utf8'));
  const t = j.testGroups[0].tests.find((x: { result: string }) => x.result === 'valid');
  t.tag = (t.tag[0] === '0' ? '1' : '0') + t.tag.slice(1);
  const dir = mkdtempSync(join(tmpdir(), 'tt-wpcli-'));
  const bad = join(dir, 'hmac_sm3_wrong.json');
  writeFileSync(bad, JSON.stringify(j));
  // the Ed25519 file relabelled as X25519 key agreement: no host primitive, so every case skips
  const x = JSON.parse(readFileSync(join(WYCHEPROOF_DIR, 'ed25519_test.json'), 'utf8'));
  const xdh = join(dir, 'xdh_like.json');
  writeFileSync(xdh, JSON.stringify({ ...x, algorithm: 'XDH', schema: 'xdh_comp_schema.json' }));
  const r = vectors(join(WYCHEPROOF_DIR, 'hmac_sha256_test.json'), bad, join(WYCHEPROOF_DIR, 'ed25519_test.json'), xdh);
  expect(r.stdout).toContain(`FAIL hmac_sm3_wrong.json#tc${t.tcId} result: expected "valid"`);
  expect(r.stdout).not.toMatch(/ed25519_test\.json/);
  expect(r.stdout).toMatch(/SKIP .*xdh_like\.json/);
  expect(r.stdout.trim().split('\n').pop()).toBe('498 passed, 1 failed, 151 skipped');
  expect(r.status).toBe(1);
});

const onC = 'the same files on the C host (--runtime c) give the same closing line';
await onCHost(onC, () => test(onC, () => {
  const r = vectors('--runtime', 'c', join(WYCHEPROOF_DIR, 'ecdsa_secp256r1_sha256_p1363_test.json'), join(WYCHEPROOF_DIR, 'ed25519_test.json'));
  expect(r.stdout.trim().split('\n').pop()).toBe('413 passed, 0 failed, 0 skipped');
  expect(r.status).toBe(0);
}));
