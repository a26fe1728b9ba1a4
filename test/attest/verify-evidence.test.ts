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
import { TEST_OEM_ROOT, rogueOemRoot } from '../../sim/oem/index.ts';
import { createPublicKey } from 'node:crypto';
import { measureClientBundle, type ClientMeasurement } from '../../ree/attestation/client-measurement.ts';

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

test('the REE client the evidence names is checked against the manifest\'s client release (issue 16 §2)', async () => {
  const release = JSON.parse(readFileSync(manifest, 'utf8')).client;
  const bundle = readFileSync(join(DEFAULT_BUILD_DIR, release.file));
  const genuine = measureClientBundle(bundle, release);
  const write = async (name: string, client: ClientMeasurement) => {
    const file = join(dir, name);
    writeFileSync(file, a.SignedEvidence.encode(await dev.attest.getEvidence(new Uint8Array(32).fill(3), dev.collector.collect(), client)).finish());
    return file;
  };
  const ok = await cli([await write('client.bin', genuine), '--manifest', manifest]);
  expect([ok.code, ok.out]).toEqual([0, expect.stringMatching(/ok +client +trusttap-client \S+ sha256 [0-9a-f]{16}… is the manifest's client release \(self-reported by the REE\)/)]);
  const altered = await cli([await write('altered.bin', measureClientBundle(Buffer.concat([bundle, Buffer.from('\n')]), release)), '--manifest', manifest]);
  expect(altered.code).toBe(1);
  expect(altered.out).toMatch(/FAIL +client +trusttap-client \S+ sha256 [0-9a-f]{16}… is not the manifest's trusttap-client/);
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

test('--oem-root and --chain prove which device made the evidence: the chain to the given root, the certified key, not the enclosed one', async () => {
  const f = await save('identity.bin', dev);
  const chain = join(dir, 'chain.bin');
  writeFileSync(chain, a.CertificateChain.encode((await dev.attest.getIdentity()).chain).finish());
  const rootHex = join(dir, 'root.hex');
  writeFileSync(rootHex, Buffer.from(TEST_OEM_ROOT.publicKey).toString('hex'));
  const p = TEST_OEM_ROOT.publicKey;
  const rootPem = join(dir, 'root.pem');
  writeFileSync(rootPem, createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(p.subarray(1, 33)).toString('base64url'), y: Buffer.from(p.subarray(33)).toString('base64url') }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }));

  for (const root of [rootHex, rootPem]) {
    const r = await cli([f, '--manifest', manifest, '--oem-root', root, '--chain', chain]);
    expect(r.out).toMatch(/ok +OEM chain +the attest TA key [0-9a-f]{16}… is certified by device attestation key serial \S+, signed by the given OEM root/);
    expect(r.out).toMatch(/ok +signature .* by the OEM-certified device key/);
    expect(r.out).toMatch(/^device identity: proven/m);
    expect(r.code).toBe(0);
  }
  // Another root: the chain does not lead to it.
  const rogue = join(dir, 'rogue.hex');
  writeFileSync(rogue, Buffer.from(rogueOemRoot().publicKey).toString('hex'));
  const r2 = await cli([f, '--manifest', manifest, '--oem-root', rogue, '--chain', chain]);
  expect(r2.out).toMatch(/FAIL +OEM chain +the device is not proven: the device attestation certificate is not signed by a trusted OEM root/);
  expect(r2.out).toMatch(/^device identity: NOT proven/m);
  expect(r2.code).toBe(1);
  // Evidence from another device, shown with this device's chain: the enclosed key does not count.
  const other = await startDevice();
  const g = await save('other-device.bin', other);
  await other.close();
  const r3 = await cli([g, '--manifest', manifest, '--oem-root', rootHex, '--chain', chain]);
  expect(r3.out).toMatch(/FAIL +evidence key/);
  expect(r3.out).toMatch(/FAIL +signature/);
  expect(r3.code).toBe(1);
  // Without a root, the output says the identity is unproven (the other checks may still pass).
  const r4 = await cli([g, '--manifest', manifest]);
  expect(r4.out).toMatch(/^device identity: UNPROVEN — no --oem-root given/m);
  expect(r4.out).toMatch(/by the enclosed \(unproven\) device key/);
  expect(r4.code).toBe(0);
  expect(JSON.parse((await cli([g, '--manifest', manifest, '--json'])).out).identity).toBe('unproven');
  expect(await cli([f, '--manifest', manifest, '--oem-root', rootHex]).catch(() => ({ code: 2 }))).toMatchObject({ code: 2 });
});
