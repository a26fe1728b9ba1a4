// `trusttap client allow|revoke|list`: the acquirer's REE client releases through a running back
// end's back-office API (issue 16 §2), as an operator runs it (spawned, exit codes, one line per
// refusal, never a stack trace).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startTestBackend, type Backend } from '../backend/harness.ts';
import { DEFAULT_BUILD_DIR } from '../../tee/index.ts';
import { parseManifest } from '../../common/manifest.ts';
import { spawnCli } from './cli.ts';

const MANIFEST = join(DEFAULT_BUILD_DIR, 'manifest.json');
const release = parseManifest(readFileSync(MANIFEST)).client!;

describe('trusttap client', () => {
  let be: Backend;
  const cli = (...args: string[]) => spawnCli(['client', ...args, '--backend', be.url], { env: { TRUSTTAP_ADMIN_TOKEN: be.adminToken } });
  beforeAll(async () => { be = await startTestBackend(); });
  afterAll(async () => { await be?.close(); });

  it('allows the signed manifest\'s client, lists it, revokes it, and refuses what the back end refuses', async () => {
    const empty = await cli('list');
    expect([empty.code, empty.stdout.trim()]).toEqual([0, 'no client release allowed: this acquirer does not check clients']);
    const allowed = await cli('allow', '--manifest', MANIFEST, '--reason', 'release');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(`trusttap-client ${release.version}  sha256 ${release.sha256}  allowed`);
    const byHand = await cli('allow', '--name', 'com.acquirer.pos', '--version', '42', '--sha256', 'ab'.repeat(32));
    expect(byHand.code).toBe(0);
    const clash = await cli('allow', '--name', 'com.acquirer.pos', '--version', '42', '--sha256', 'cd'.repeat(32));
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/refused \(HTTP 409\) ERROR_CONFLICT: client com\.acquirer\.pos 42 is allowed with another SHA-256/);
    expect(clash.stderr).not.toMatch(/\n\s+at /);
    const revoked = await cli('revoke', 'com.acquirer.pos', '42', '--reason', 'lost signing key');
    expect([revoked.code, /REVOKED .*lost signing key/.test(revoked.stdout)]).toEqual([0, true]);
    const list = await cli('list');
    expect(list.stdout.trim().split('\n').map((l) => l.split('  ')[0])).toEqual(['com.acquirer.pos 42', `trusttap-client ${release.version}`]);
    expect(list.stdout).toMatch(/com\.acquirer\.pos 42 .*REVOKED/);
  });

  it('usage errors exit 2; a wrong token is one line, exit 1', async () => {
    expect((await cli('allow')).code).toBe(2);
    expect((await cli('allow', '--name', 'x', '--version', '1', '--sha256', 'zz')).code).toBe(2);
    expect((await cli('revoke', 'x', '1')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('list', '--acquirer', 'Bank B')).code).toBe(2);
    const unknown = await cli('list', '--acquirer', 'no-such-acquirer');
    expect([unknown.code, /refused \(HTTP 404\).*no acquirer no-such-acquirer/.test(unknown.stderr)]).toEqual([1, true]);
    const wrong = await spawnCli(['client', 'list', '--backend', be.url, '--admin-token', 'nope']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toMatch(/^.*refused \(HTTP 401\).*wrong or missing --admin-token\)$/);
  });
});
