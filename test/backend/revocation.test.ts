// Issue 17 §10: the back end's policy revokes a manifest or a TA version; evidence naming one is
// refused with the reason and the device suspended. Revocations only add up (a policy PUT that
// leaves one out does not undo it), and a revoked manifest cannot be allowed again.
import { test, expect, afterAll, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { startTestBackend, Admin, enrolledDevice, buildManifest, a, type Backend } from './harness.ts';
import { versionNumber } from '../../backend/attestation/witness.ts';

let be: Backend;
let admin: Admin;
beforeAll(async () => { be = await startTestBackend(); admin = new Admin(be); }, 60_000);
afterAll(async () => { await be?.close(); });

const ATTEST_UUID = 'a77e5700-0d1c-4e0a-9b5e-a77e57a77e57';

test('a TA below the policy\'s minimum version: SUSPEND with a typed reason, device suspended', async () => {
  const { dev, link } = await enrolledDevice(be, admin);
  try {
    expect((await link.attestNow()).token.verdict).toBe(a.Verdict.VERDICT_ALLOW);
    const p = await admin.putPolicy({ taMinVersions: [{ uuid: ATTEST_UUID, minVersion: '0.2.0' }] });
    expect(p.taMinVersions).toEqual([expect.objectContaining({ uuid: ATTEST_UUID, minVersion: '0.2.0' })]);
    const t = (await link.attestNow()).token;
    expect(t.verdict).toBe(a.Verdict.VERDICT_SUSPEND);
    expect(t.reasons).toContain('suspend: revoked: TA attest version 0.1.0 is below the minimum 0.2.0 the policy accepts');
    const rec = await admin.device(link.state.deviceId);
    expect([a.DeviceState[rec.state], rec.stateReason]).toEqual(['DEVICE_STATE_SUSPENDED', 'revoked: TA attest version 0.1.0 is below the minimum 0.2.0 the policy accepts']);
    // A later PUT that leaves the floor out (or lowers it) keeps it.
    const again = await admin.putPolicy({ taMinVersions: [{ uuid: ATTEST_UUID, minVersion: '0.0.1' }] });
    expect(again.taMinVersions.map((f) => f.minVersion)).toEqual(['0.2.0']);
    const bad = await admin.req('PUT', '/v1/admin/policy', a.Policy.encode({ ...again, taMinVersions: [{ uuid: 'not-a-uuid', minVersion: '1.0.0' }] }).finish());
    expect([bad.status, bad.error]).toEqual([400, 'ERROR_MALFORMED']);
  } finally {
    await dev.close();
  }
}, 60_000);

test('a revoked manifest: SUSPEND for devices running its TAs; it cannot be allowed again', async () => {
  const be2 = await startTestBackend();
  const admin2 = new Admin(be2);
  const { dev, link } = await enrolledDevice(be2, admin2);
  try {
    const sha = createHash('sha256').update(buildManifest().bytes).digest();
    await admin2.putPolicy({ revokedManifestSha256: [sha] });
    const t = (await link.attestNow()).token;
    expect(t.verdict).toBe(a.Verdict.VERDICT_SUSPEND);
    expect(t.reasons.join('\n')).toMatch(/^suspend: revoked: the TAs were loaded from manifest [0-9a-f]{16}…, which is revoked$/m);
    expect(a.DeviceState[(await admin2.device(link.state.deviceId)).state]).toBe('DEVICE_STATE_SUSPENDED');
    const m = buildManifest();
    const up = await admin2.req('POST', '/v1/admin/manifests', a.UploadManifestRequest.encode({ manifest: m.bytes, signature: m.signature }).finish());
    expect([up.status, up.error]).toEqual([409, 'ERROR_CONFLICT']);
    expect((await admin2.putPolicy({ revokedManifestSha256: [] })).revokedManifestSha256.length).toBe(1);
  } finally {
    await dev.close();
    await be2.close();
  }
}, 60_000);

test('TA versions as witnessed numbers order as the versions do', () => {
  const order = ['0.0.1', '0.1.0-rc.1', '0.1.0', '0.1.1', '0.2.0', '1.0.0', '10.0.0'].map(versionNumber);
  expect(order.every((v, i) => v !== null && (i === 0 || v > order[i - 1]!))).toBe(true);
  expect(versionNumber('latest')).toBeNull();
});
