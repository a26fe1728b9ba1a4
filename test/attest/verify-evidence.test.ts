// `trusttap verify-evidence`: a saved evidence blob verified offline against the signed manifest.
import { test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { DEFAULT_BUILD_DIR } from '../../tee/index.ts';
import { run } from '../../cli/commands/verify-evidence.ts';
import { startDevice, healthy, type Device } from './device.ts';

const a = trusttap.attest.v1;
const dir = mkdtempSync(join(tmpdir(), 'tt-ve-'));
const manifest = join(DEFAULT_BUILD_DIR, 'manifest.json');
let dev: Device;

async function save(name: string, d: Device, nonce = new Uint8Array(32).fill(3)): Promise<string> {
  const e = await d.attest.getEvidence(nonce, d.collector.collect());
  const file = join(dir, name);
  writeFileSync(file, a.SignedEvidence.encode(e).finish());
  return file;
}

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...x: unknown[]) => { lines.push(x.join(' ')); };
  try {
    return { code: await run(args), out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}

beforeAll(async () => { dev = await startDevice(); });
afterAll(() => dev.close());

test('genuine evidence verifies: signature, manifest hash, every TA hash, boot state, signals', async () => {
  const f = await save('good.bin', dev);
  const r = await cli([f, '--manifest', manifest, '--nonce', '03'.repeat(32)]);
  expect(r.out).toMatch(/evidence verified/);
  expect(r.out).toMatch(/ok +TA attest +sha256 [0-9a-f]{16}… matches/);
  expect(r.code).toBe(0);
  const j = await cli([f, '--manifest', manifest, '--json']);
  expect(JSON.parse(j.out).ok).toBe(true);
});

test('one flipped bit, a wrong nonce, a raised signal or another manifest fail the check (exit 1)', async () => {
  const f = await save('flip.bin', dev);
  const b = readFileSync(f);
  b[20] ^= 1;
  writeFileSync(f, b);
  expect((await cli([f, '--manifest', manifest])).code).toBe(1);
  const g = await save('nonce.bin', dev);
  expect((await cli([g, '--manifest', manifest, '--nonce', '04'.repeat(32)])).out).toMatch(/FAIL +nonce/);
  const rooted = await startDevice({ health: { ...healthy(), rooted: true } });
  const r = await cli([await save('rooted.bin', rooted), '--manifest', manifest]);
  await rooted.close();
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/FAIL +REE signals +raised: rooted/);
  const other = join(dir, 'other');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(other);
  const m = JSON.parse(readFileSync(manifest, 'utf8'));
  m.signer = 'someone else';
  writeFileSync(join(other, 'manifest.json'), JSON.stringify(m, null, 2) + '\n');
  copyFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), join(other, 'manifest.sig'));
  const o = await cli([g, '--manifest', join(other, 'manifest.json')]);
  expect(o.out).toMatch(/FAIL +manifest signature/);
  expect(o.out).toMatch(/FAIL +manifest hash/);
});

test('the CLI: exit codes through bin/trusttap.mjs', async () => {
  const f = await save('cli.bin', dev);
  writeFileSync(`${f}.hex`, readFileSync(f).toString('hex'));
  const ok = spawnSync(process.execPath, ['bin/trusttap.mjs', 'verify-evidence', `${f}.hex`, '--manifest', manifest], { encoding: 'utf8' });
  expect(ok.stdout).toMatch(/evidence verified/);
  expect(ok.status).toBe(0);
  const usage = spawnSync(process.execPath, ['bin/trusttap.mjs', 'verify-evidence', f], { encoding: 'utf8' });
  expect(usage.status).toBe(2);
});
