// The auditor's walk (docs/attestation.md "From evidence to the SBOM"): a device's evidence,
// verified offline against the signed manifest, names the manifest it was loaded from and the
// SHA-256 of every TA image the runtime measured; each of those hashes finds exactly one TA
// component of the build's SBOM, whose source files hash as the checkout's do.
import { test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { DEFAULT_BUILD_DIR } from '../../tee/index.ts';
import { verifyEvidenceOffline } from '../../backend/attestation/offline.ts';
import { DEV_MANIFEST_PUBLIC_KEY } from '../../tee/loader/from-build.ts';
import { SBOM_FILE, checkSbom, sbomTaByHash } from '../../build/sbom.ts';
import { PROJECT_ROOT } from '../../build/paths.ts';
import { parseManifest } from '../../common/manifest.ts';
import { startDevice, type Device } from './device.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let dev: Device;
beforeAll(async () => { dev = await startDevice(); });
afterAll(() => dev.close());

test('from a device\'s evidence to the SBOM entry, sources and compiler of every TA it ran', async () => {
  const nonce = new Uint8Array(32).fill(7);
  const blob = trusttap.attest.v1.SignedEvidence.encode(await dev.attest.getEvidence(nonce, dev.collector.collect())).finish();
  // 1. the evidence holds: signature, nonce, manifest hash and every TA hash against the signed manifest
  const manifestBytes = readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'));
  const report = verifyEvidenceOffline({
    signedEvidence: blob, manifest: manifestBytes, manifestSignature: readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.sig'), 'utf8'),
    trustedKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY), nonce,
  });
  expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  const m = report.evidence!.measurements!;
  // 2. the SBOM describes that manifest, and its TA hashes are the manifest's (what audit checks)
  const sbom = readFileSync(join(DEFAULT_BUILD_DIR, SBOM_FILE), 'utf8');
  expect(JSON.parse(sbom).metadata.properties).toContainEqual({ name: 'trusttap:manifest:sha256', value: hex(m.manifestSha256 ?? new Uint8Array(0)) });
  expect(checkSbom(sbom, parseManifest(manifestBytes)).status).toBe('ok');
  // 3. each measured TA: its SBOM component, its sources as the checkout holds them, how it was compiled
  const measured = m.tas ?? [];
  expect(measured.length).toBeGreaterThan(0);
  for (const t of measured) {
    const wasmSha = hex(t.sha256 ?? new Uint8Array(0));
    const entry = sbomTaByHash(sbom, wasmSha);
    expect(entry, `TA ${t.name} (${wasmSha}) in the SBOM`).not.toBeNull();
    expect(entry!.name).toBe(t.name);
    expect(entry!.version).toBe(t.version);
    expect(entry!.compiler).toMatch(/^assemblyscript \d+\.\d+\.\d+$/);
    expect(entry!.ascArgs).toMatch(new RegExp(`^ta/${t.name}/index\\.ts --config asconfig\\.json --target release --maximumMemory \\d+$`));
    expect(entry!.sources.map((s) => s.name)).toContain(`ta/${t.name}/index.ts`);
    for (const s of entry!.sources) expect(s.sha256, s.name).toBe(sha(readFileSync(join(PROJECT_ROOT, s.name))));
  }
});
