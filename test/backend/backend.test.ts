// The back end through its real HTTP service on loopback, with devices on the reference runtime
// and the signed build: enrolment, attestation verdicts and tokens, monitoring rules and
// notices, history, and every refusal (400/401/403/404/409/413) with its typed reason.
import { test, expect, beforeAll, afterAll, describe } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendLink, BackendError } from '../../ree/attestation/backend-link.ts';
import { verifyToken, verifyP256 } from '../../common/verdict-token.ts';
import { provisionDevice, rogueOemRoot } from '../../sim/oem/index.ts';
import { startDevice, peerImage, healthy } from '../attest/device.ts';
import { a, Admin, startTestBackend, enrolledDevice, tid, tableRows, testDb, type Backend } from './harness.ts';

const V = a.Verdict;
const num = (x: any) => (typeof x === 'number' ? x : x.toNumber());

let be: Backend;
let admin: Admin;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  be = await startTestBackend();
  admin = new Admin(be);
});
afterAll(async () => {
  for (const c of closers) await c().catch(() => undefined);
  await be.close();
});

async function device(o: Parameters<typeof enrolledDevice>[2] = {}) {
  const d = await enrolledDevice(be, admin, o);
  closers.push(() => d.dev.close());
  return d;
}

async function expectRefused(p: Promise<unknown>, http: number, code: string): Promise<BackendError> {
  const e = await p.then(() => null, (x) => x);
  expect(e, 'expected a BackendError').toBeInstanceOf(BackendError);
  expect(`${(e as BackendError).http} ${(e as BackendError).codeName}`).toBe(`${http} ${code}`);
  return e as BackendError;
}

async function post(path: string, body: Uint8Array) {
  const r = await fetch(`${be.url}${path}`, { method: 'POST', body: Buffer.from(body) });
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, message: r.headers.get('x-trusttap-message'), error: r.headers.get('x-trusttap-error'), bytes };
}

describe('enrolment', () => {
  test('back office creates a terminal; the device enrols with evidence + OEM chain, gets a certificate and an ALLOW token', async () => {
    const { dev, link, enrol, terminal } = await device();
    expect(enrol.deviceId).toBe(terminal.deviceId);
    const id = await dev.attest.getIdentity();
    const cert = a.CertificateBody.decode(enrol.deviceCertificate!.tbs!);
    expect(cert.kind).toBe(a.CertificateKind.CERTIFICATE_KIND_DEVICE_IDENTITY);
    expect(Buffer.from(cert.subjectPublicKey).equals(Buffer.from(id.publicKey))).toBe(true);
    expect(cert.terminalId).toBe(enrol.terminalId);
    const tok = verifyToken(enrol.token!, link.state.keys!.token, id.publicKey);
    expect(tok.verdict).toBe(V.VERDICT_ALLOW);
    const rec = await admin.device(enrol.deviceId);
    expect(rec.state).toBe(a.DeviceState.DEVICE_STATE_ACTIVE);
    const kinds = (await admin.history(enrol.deviceId)).map((h) => h.kind);
    expect(kinds).toEqual(expect.arrayContaining(['state', 'enrolment', 'verdict']));
  });

  test('an activation code works once; an unknown one is refused', async () => {
    const { terminal } = await device();
    const dev2 = await startDevice();
    closers.push(() => dev2.close());
    const link2 = new BackendLink(be.url, dev2.attest, dev2.collector);
    await expectRefused(link2.enrol(terminal.activationCode), 403, 'ERROR_BAD_ACTIVATION_CODE');
    await expectRefused(link2.enrol('AAAAA-BBBBB-CCCCC-DDDDD'), 403, 'ERROR_BAD_ACTIVATION_CODE');
  });

  test('a device key certified by an untrusted (self-made) OEM root cannot enrol', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tt-rogue-'));
    provisionDevice(dataDir, { root: rogueOemRoot() });
    const dev = await startDevice({ dataDir });
    closers.push(() => dev.close());
    const t = await admin.createTerminal('M-0001', tid());
    const e = await expectRefused(new BackendLink(be.url, dev.attest, dev.collector).enrol(t.activationCode), 403, 'ERROR_BAD_CERTIFICATE');
    expect(e.reason).toMatch(/trusted OEM root/);
  });

  test.each([
    ['unlocked bootloader', { bootState: 'unlocked' as const }, /boot state BOOT_STATE_UNLOCKED/],
    ['rooted', { health: { ...healthy(), rooted: true } }, /root detected/],
  ])('enrolment with %s is refused with the reason', async (_, o, why) => {
    const dev = await startDevice(o);
    closers.push(() => dev.close());
    const t = await admin.createTerminal('M-0001', tid());
    const e = await expectRefused(new BackendLink(be.url, dev.attest, dev.collector).enrol(t.activationCode), 403, 'ERROR_ATTESTATION_REFUSED');
    expect(e.reason).toMatch(why);
    expect((await admin.device(t.deviceId)).state).toBe(a.DeviceState.DEVICE_STATE_REGISTERED);
  });

  test('a TA image the signed manifests do not list is refused', async () => {
    const dev = await startDevice({ extra: [await peerImage('other')] });
    closers.push(() => dev.close());
    const t = await admin.createTerminal('M-0001', tid());
    const e = await expectRefused(new BackendLink(be.url, dev.attest, dev.collector).enrol(t.activationCode), 403, 'ERROR_ATTESTATION_REFUSED');
    expect(e.reason).toMatch(/TA other image .* not on the allowlist/);
  });
});

describe('attestation', () => {
  test('fresh attestation: ALLOW token bound to the device key and nonce, short lifetime, signed by the token key', async () => {
    const { dev, link } = await device();
    const { token, signed } = await link.attestNow();
    expect(token.verdict).toBe(V.VERDICT_ALLOW);
    expect(num(token.expiresMs) - num(token.issuedMs)).toBe(120_000);
    expect(verifyP256(link.state.keys!.token, signed.token, signed.signature)).toBe(true);
    const other = (await startDevice()).attest;
    expect(() => verifyToken(signed, link.state.keys!.token, new Uint8Array(65).fill(4))).toThrow(/another device/);
    await other.close();
    expect(await be.service.paymentGate(link.state.deviceId)).toEqual({ allowed: true, reason: '' });
    // A device nonce (the pinpad TA's) rides after the challenge: the token's nonce ends with it.
    const pinpadNonce = new Uint8Array(32).fill(0x5a);
    const bound = await link.attestNow(pinpadNonce);
    expect(Buffer.from(bound.token.nonce).subarray(32).equals(Buffer.from(pinpadNonce))).toBe(true);
    void dev;
  });

  test('a replayed request (same counter) is refused; reused or foreign nonces are refused', async () => {
    const { dev, link } = await device();
    // Capture one signed attest request and send it twice.
    const nonceReq = a.DeviceRequest.encode({ deviceId: link.state.deviceId, counter: Date.now() * 1000 + 500_000_000, timeMs: Date.now(), challenge: {} } as any).finish();
    const sig = await dev.attest.signRequest(nonceReq);
    const first = await post('/v1/device/challenge', a.SignedDeviceRequest.encode({ request: nonceReq, signature: sig }).finish());
    expect(first.status).toBe(200);
    const again = await post('/v1/device/challenge', a.SignedDeviceRequest.encode({ request: nonceReq, signature: sig }).finish());
    expect(again.status).toBe(409);
    expect(again.error).toBe('ERROR_REPLAY');
    link.state.lastCounter = Date.now() * 1000 + 600_000_000;
    const nonce = a.DeviceResponse.decode(a.SignedDeviceResponse.decode(first.bytes).response).challenge!.nonce!;
    const ev = await dev.attest.getEvidence(nonce, dev.collector.collect());
    await link.call('attest', { attest: { evidence: ev } });
    await expectRefused(link.call('attest', { attest: { evidence: ev } }), 409, 'ERROR_NONCE_UNKNOWN');
    const made = await dev.attest.getEvidence(new Uint8Array(32).fill(9), dev.collector.collect());
    await expectRefused(link.call('attest', { attest: { evidence: made } }), 409, 'ERROR_NONCE_UNKNOWN');
  });

  test('evidence signed by another key is refused (401)', async () => {
    const { link } = await device();
    const thief = await startDevice();
    closers.push(() => thief.close());
    const nonce = (await link.call('challenge', { challenge: {} })).challenge!.nonce!;
    const ev = await thief.attest.getEvidence(nonce, thief.collector.collect());
    await expectRefused(link.call('attest', { attest: { evidence: ev } }), 401, 'ERROR_BAD_EVIDENCE');
  });

  test('a nonce issued to another device is refused, and burnt by the attempt', async () => {
    const x = await device();
    const y = await device();
    const nonce = (await x.link.call('challenge', { challenge: {} })).challenge!.nonce!;
    const evY = await y.dev.attest.getEvidence(nonce, y.dev.collector.collect());
    const e = await expectRefused(y.link.call('attest', { attest: { evidence: evY } }), 409, 'ERROR_NONCE_UNKNOWN');
    expect(e.reason).toMatch(/issued to someone else/);
    const evX = await x.dev.attest.getEvidence(nonce, x.dev.collector.collect());
    await expectRefused(x.link.call('attest', { attest: { evidence: evX } }), 409, 'ERROR_NONCE_UNKNOWN');
  });

  test('an expired nonce is refused', async () => {
    const { link } = await device();
    await admin.putPolicy({ nonceTtlMs: 1 });
    try {
      const nonce = (await link.call('challenge', { challenge: {} })).challenge!.nonce!;
      await new Promise((r) => setTimeout(r, 10));
      const ev = await link.attest.getEvidence(nonce, link.collector.collect());
      await expectRefused(link.call('attest', { attest: { evidence: ev } }), 409, 'ERROR_NONCE_EXPIRED');
    } finally {
      await admin.putPolicy({ nonceTtlMs: 60_000 });
    }
  });
});

describe('monitoring rules and responses', () => {
  test.each([
    ['root', { rooted: true }, /root detected/],
    ['a hooking framework', { hookingFramework: true }, /hooking framework/],
    ['a changed device id', { deviceId: 'android-id-9999' }, /device id changed/],
    ['an emulator', { emulator: true }, /emulator/],
    ['an attached debugger', { debuggerAttached: true }, /debugger attached/],
  ])('%s suspends the device: SUSPEND token, THREAT_ALERT + DEVICE_SUSPENDED delivered, then 403 with the reason', async (_, change, why) => {
    const { dev, link } = await device();
    Object.assign(dev.health, change);
    const { token } = await link.attestNow();
    expect(token.verdict).toBe(V.VERDICT_SUSPEND);
    expect(token.reasons.join()).toMatch(why);
    const types = link.notices.map((n) => a.NoticeType[n.type]);
    expect(types).toEqual(expect.arrayContaining(['NOTICE_THREAT_ALERT', 'NOTICE_DEVICE_SUSPENDED']));
    const e = await expectRefused(link.heartbeat(), 403, 'ERROR_DEVICE_SUSPENDED');
    expect(e.reason).toMatch(why);
    expect((await be.service.paymentGate(link.state.deviceId)).allowed).toBe(false);
    const h = await admin.history(link.state.deviceId);
    expect(h.some((x) => x.kind === 'verdict' && x.verdict === V.VERDICT_SUSPEND)).toBe(true);
  });

  test('root seen in a heartbeat suspends too', async () => {
    const { dev, link } = await device();
    dev.health.rooted = true;
    const hb = await link.heartbeat();
    expect(hb.attestationRequired).toBe(true);
    expect((await admin.device(link.state.deviceId)).state).toBe(a.DeviceState.DEVICE_STATE_SUSPENDED);
  });

  test.each([
    ['an IP change', { ipAddress: '198.51.100.7' }, /IP address changed/],
    ['a location jump', { location: { latitude: 39.9042, longitude: 116.4074 } }, /location jumped 1067 km/],
    ['developer options', { developerOptions: true }, /developer options/],
  ])('%s asks for a step-up; payments wait for a clean attestation', async (_, change, why) => {
    const { dev, link } = await device();
    Object.assign(dev.health, change);
    const { token } = await link.attestNow();
    expect(token.verdict).toBe(V.VERDICT_STEP_UP);
    expect(token.reasons.join()).toMatch(why);
    expect((await be.service.paymentGate(link.state.deviceId)).allowed).toBe(false);
    expect(link.notices.some((n) => n.type === a.NoticeType.NOTICE_THREAT_ALERT)).toBe(true);
    if (!('developerOptions' in change)) {
      const again = await link.attestNow(); // same IP / place as last seen now
      expect(again.token.verdict).toBe(V.VERDICT_ALLOW);
      expect((await be.service.paymentGate(link.state.deviceId)).allowed).toBe(true);
    }
  });

  test('missed heartbeats: payments refused until a fresh attestation; POLICY_UPDATE delivered on next contact', async () => {
    const { link } = await device();
    const before = be.service.policyVersion;
    await admin.putPolicy({ heartbeatTimeoutMs: 300 });
    try {
      const hb = await link.heartbeat();
      expect(link.notices.some((n) => n.type === a.NoticeType.NOTICE_POLICY_UPDATE && n.policyVersion === before + 1)).toBe(true);
      expect(hb.policyVersion).toBe(before + 1);
      await new Promise((r) => setTimeout(r, 400));
      expect((await admin.req('POST', '/v1/admin/sweep')).status).toBe(204);
      expect(await be.service.paymentGate(link.state.deviceId)).toEqual({ allowed: false, reason: 'a fresh attestation is required' });
      const hb2 = await link.heartbeat();
      expect(hb2.attestationRequired).toBe(true);
      expect(link.notices.some((n) => n.type === a.NoticeType.NOTICE_ATTESTATION_REQUIRED)).toBe(true);
      await link.attestNow();
      expect((await be.service.paymentGate(link.state.deviceId)).allowed).toBe(true);
    } finally {
      await admin.putPolicy({ heartbeatTimeoutMs: 15 * 60_000 });
    }
  });

  test('back office: suspend → DEVICE_SUSPENDED on next contact (403, signed); reactivate → attestation required; disable is final', async () => {
    const { link } = await device();
    const id = link.state.deviceId;
    expect((await admin.setState(id, a.DeviceState.DEVICE_STATE_SUSPENDED, 'merchant reported theft')).status).toBe(200);
    const e = await expectRefused(link.heartbeat(), 403, 'ERROR_DEVICE_SUSPENDED');
    expect(e.reason).toMatch(/merchant reported theft/);
    expect(link.notices.some((n) => n.type === a.NoticeType.NOTICE_DEVICE_SUSPENDED && n.reason === 'merchant reported theft')).toBe(true);
    await admin.setState(id, a.DeviceState.DEVICE_STATE_ACTIVE, 'cleared');
    expect((await be.service.paymentGate(id)).allowed).toBe(false);
    await link.attestNow();
    expect(link.notices.some((n) => n.type === a.NoticeType.NOTICE_DEVICE_REACTIVATED)).toBe(true);
    expect((await be.service.paymentGate(id)).allowed).toBe(true);
    await admin.setState(id, a.DeviceState.DEVICE_STATE_DISABLED, 'returned');
    await expectRefused(link.heartbeat(), 403, 'ERROR_DEVICE_DISABLED');
    const r = await admin.setState(id, a.DeviceState.DEVICE_STATE_ACTIVE, 'no');
    expect(r.status).toBe(409);
    const kinds = (await admin.history(id)).map((h) => h.detail ?? '');
    expect(kinds.some((d) => d.includes('active -> suspended'))).toBe(true);
    expect(kinds.some((d) => d.includes('suspended -> active'))).toBe(true);
  });
});

describe('bad input', () => {
  test('malformed body → 400 ERROR_MALFORMED', async () => {
    const r = await post('/v1/device/attest', Uint8Array.of(0xff, 0xff, 0xff));
    expect([r.status, r.error, r.message]).toEqual([400, 'ERROR_MALFORMED', 'ErrorResponse']);
    expect(a.ErrorResponse.decode(r.bytes).code).toBe(a.ErrorCode.ERROR_MALFORMED);
  });

  // Issue 17 §10: every signed request has its time checked — the enrolment-time ones (no
  // device yet, so no counter) included — and leaving time_ms out (0) does not skip the check.
  test('time: challenge, enrolment and device requests without a time or with a stale one are refused', async () => {
    const dev = await startDevice();
    closers.push(() => dev.close());
    const publicKey = (await dev.attest.getIdentity()).publicKey;
    const { activationCode } = await admin.createTerminal('M-0001', tid());
    const enrolTime = async (op: 'challenge' | 'enrol', timeMs: number | undefined) => {
      const body = op === 'challenge' ? { challenge: { activationCode } } : { enrol: { activationCode } };
      const request = a.DeviceRequest.encode({ counter: 1, ...(timeMs === undefined ? {} : { timeMs }), ...body } as any).finish();
      return post(`/v1/device/${op}`, a.SignedDeviceRequest.encode({ request, signature: await dev.attest.signRequest(request), publicKey }).finish());
    };
    for (const op of ['challenge', 'enrol'] as const) {
      expect([op, (await enrolTime(op, undefined)).error]).toEqual([op, 'ERROR_MALFORMED']);
      expect([op, (await enrolTime(op, 0)).error]).toEqual([op, 'ERROR_MALFORMED']);
      expect([op, (await enrolTime(op, Date.now() - 10 * 60_000)).error]).toEqual([op, 'ERROR_REPLAY']);
      expect([op, (await enrolTime(op, Date.now() + 10 * 60_000)).error]).toEqual([op, 'ERROR_REPLAY']);
    }
    // With a fresh time the challenge is answered (and the incomplete enrolment fails on its content).
    expect((await enrolTime('challenge', Date.now())).status).toBe(200);
    expect(String((await enrolTime('enrol', Date.now())).error)).not.toMatch(/ERROR_MALFORMED|ERROR_REPLAY/);

    const { dev: enrolled, link } = await device();
    let counter = Date.now() * 1000 + 7e8;
    const heartbeat = async (timeMs: number | undefined) => {
      const request = a.DeviceRequest.encode({ deviceId: link.state.deviceId, counter: counter++, ...(timeMs === undefined ? {} : { timeMs }), heartbeat: {} } as any).finish();
      return post('/v1/device/heartbeat', a.SignedDeviceRequest.encode({ request, signature: await enrolled.attest.signRequest(request) }).finish());
    };
    expect((await heartbeat(undefined)).error).toBe('ERROR_MALFORMED');
    expect((await heartbeat(0)).error).toBe('ERROR_MALFORMED');
    expect((await heartbeat(Date.now() - 6 * 60_000)).error).toBe('ERROR_REPLAY');
    expect((await heartbeat(Date.now())).status).toBe(200);
  });

  test('a body for another endpoint → 400; too large → 413; unknown route → 404', async () => {
    const { dev, link } = await device();
    const req = a.DeviceRequest.encode({ deviceId: link.state.deviceId, counter: Date.now() * 1000 + 9e8, timeMs: Date.now(), heartbeat: {} } as any).finish();
    const body = a.SignedDeviceRequest.encode({ request: req, signature: await dev.attest.signRequest(req) }).finish();
    expect((await post('/v1/device/attest', body)).status).toBe(400);
    expect((await post('/v1/device/heartbeat', new Uint8Array(70_000))).status).toBe(413);
    expect((await post('/v1/device/nope', body)).status).toBe(404);
  });

  test('bad signature → 401; unknown device → 404; admin without the token → 401', async () => {
    const { dev, link } = await device();
    const req = a.DeviceRequest.encode({ deviceId: link.state.deviceId, counter: Date.now() * 1000 + 9e8, heartbeat: {} } as any).finish();
    const sig = await dev.attest.signRequest(req);
    sig[10] ^= 1;
    const r = await post('/v1/device/heartbeat', a.SignedDeviceRequest.encode({ request: req, signature: sig }).finish());
    expect([r.status, r.error]).toEqual([401, 'ERROR_BAD_SIGNATURE']);
    const ghost = a.DeviceRequest.encode({ deviceId: 'dev-ghost', counter: 1, heartbeat: {} } as any).finish();
    const g = await post('/v1/device/heartbeat', a.SignedDeviceRequest.encode({ request: ghost, signature: await dev.attest.signRequest(ghost) }).finish());
    expect([g.status, g.error]).toEqual([404, 'ERROR_UNKNOWN_DEVICE']);
    expect((await admin.req('GET', `/v1/admin/devices/${link.state.deviceId}`, undefined, 'wrong')).status).toBe(401);
    expect((await admin.req('GET', '/v1/admin/devices/dev-ghost')).status).toBe(404);
  });

  test('an answer not bound to the request is rejected by the device', async () => {
    const { link } = await device();
    const real = link.state.keys!;
    link.state.keys = { ...real, response: (await startDevice()).runtime && new Uint8Array(65).fill(4) };
    await expect(link.heartbeat()).rejects.toThrow(/not signed by the back end/);
    link.state.keys = real;
    await link.heartbeat();
  });

  test('the service listens on loopback only', () => {
    const addr = be.server.address() as { address: string };
    expect(addr.address).toBe('127.0.0.1');
  });
});

test('nothing secret in the database: activation codes hashed, keys only wrapped', async () => {
  const { terminal } = await device();
  const unused = await admin.createTerminal('M-0001', tid());
  const secrets = (await tableRows(be, 'SELECT id, wrapped FROM secrets')).map((r) => [r.id, Buffer.from(r.wrapped as Uint8Array).toString('hex')]);
  const dump = JSON.stringify(await tableRows(be, 'SELECT * FROM devices')) + JSON.stringify(secrets);
  expect(dump).not.toContain(terminal.activationCode);
  expect(dump).not.toContain(unused.activationCode);
  expect(dump).toContain(createHash('sha256').update(unused.activationCode.replace(/-/g, '')).digest('hex'));
  if (testDb === 'sqlite') expect((be.service.repo as any).db.pragma('journal_mode', { simple: true })).toBe('wal');
});

// Issue 17 §2: a counter far ahead (2^53, 2^64−1, or just past the bound) signed by the device's
// own attest TA — what a compromised REE can get — is refused with ERROR_COUNTER_JUMP, consumes
// nothing, and the device goes on working; a link whose saved counter ran ahead recovers by itself.
describe('counter jumps', () => {
  const signedHeartbeat = async (dev: Awaited<ReturnType<typeof device>>['dev'], deviceId: string, counter: unknown) => {
    const req = a.DeviceRequest.encode({ deviceId, counter, timeMs: Date.now(), heartbeat: {} } as any).finish();
    return a.SignedDeviceRequest.encode({ request: req, signature: await dev.attest.signRequest(req) }).finish();
  };

  test.each([
    ['2^53', 2 ** 53],
    ['2^64−1', '18446744073709551615'],
    ['just past the bound', 'bound+1'],
  ])('a counter of %s: 409 ERROR_COUNTER_JUMP, the last accepted unchanged, the device still works', async (_, jump) => {
    const { dev, link } = await device();
    const id = link.state.deviceId;
    const before = (await admin.device(id)).lastCounter;
    const { counterBound } = await import('../../backend/service.ts');
    const value = jump === 'bound+1' ? counterBound(Number(before), Date.now() + 60_000) + 1 : jump;
    const r = await post('/v1/device/heartbeat', await signedHeartbeat(dev, id, value));
    expect([r.status, r.error]).toEqual([409, 'ERROR_COUNTER_JUMP']);
    const answer = a.DeviceResponse.decode(a.SignedDeviceResponse.decode(r.bytes).response);
    expect(answer.error!.message).toMatch(/runs too far ahead/);
    expect(String((await admin.device(id)).lastCounter)).toBe(String(before));
    const hist = await admin.history(id);
    expect(hist.some((h) => /ERROR_COUNTER_JUMP/.test(h.detail ?? ''))).toBe(true);
    // The genuine device goes on: heartbeat and a fresh attestation are answered.
    await link.heartbeat();
    expect((await link.attestNow()).token.verdict).toBe(V.VERDICT_ALLOW);
  });

  test('a link whose saved counter ran ahead (2^53) restarts from the clock after the refusal and is answered', async () => {
    const { link } = await device();
    link.state.lastCounter = 2 ** 53;
    await link.heartbeat();
    expect(link.state.lastCounter).toBeLessThan((Date.now() + 60_000) * 1000);
  });
});
