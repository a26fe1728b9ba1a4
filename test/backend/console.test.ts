// The operators' console over plain HTTP (issue 12 §1): sign-in (admin token, operator
// accounts hashed with scrypt), the session cookie's attributes, CSRF on every change, a
// browser's Origin, role checks on the server for every route, who and why in the device
// history, the device view (signals, IP and location history), terminals and activation codes,
// policy preview (the devices a change affects) and roll-out. The page itself, in Chromium:
// test/browser/console.test.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBackend, Admin, enrolledDevice, buildManifest, type Backend } from './harness.ts';
import type { BackendLink } from '../../ree/attestation/backend-link.ts';
import type { Device } from '../attest/device.ts';
import { addOperator, hashPassword, verifyPassword } from '../../backend/console/accounts.ts';
import { CONSOLE_DIR } from '../../backend/console/routes.ts';
import { SESSION_TTL_MS } from '../../backend/console/sessions.ts';

const PASSWORDS = { alice: 'alice-operator-pass-1', victor: 'victor-viewer-pass-1' };

/** A browser-like client: keeps the cookie, sends the CSRF token it was given. */
class Client {
  cookie = '';
  csrf = '';
  setCookie = '';
  constructor(readonly url: string) {}
  async call(method: string, path: string, body?: unknown, o: { csrf?: string | null; origin?: string; type?: string } = {}) {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET') {
      headers['content-type'] = o.type ?? 'application/json';
      const t = o.csrf === undefined ? this.csrf : o.csrf;
      if (t !== null) headers['x-csrf-token'] = t;
    }
    if (o.origin) headers.origin = o.origin;
    const r = await fetch(`${this.url}/console/api/${path}`, { method, headers, body: body === undefined ? (method === 'GET' ? undefined : '{}') : JSON.stringify(body) });
    const sc = r.headers.get('set-cookie');
    if (sc) { this.setCookie = sc; this.cookie = sc.split(';')[0]!; }
    const json = await r.json() as any;
    return { status: r.status, json };
  }
  async signIn(body: unknown) {
    const r = await this.call('POST', 'session', body);
    if (r.status === 200) this.csrf = r.json.csrfToken;
    return r;
  }
}

describe('operators\' console API', () => {
  let be: Backend;
  let admin: Admin;
  let clock = Date.now();
  let root: Client, alice: Client, victor: Client;
  let deviceId = '';
  let phone: { dev: Device; link: BackendLink };
  let closeDevice: () => Promise<void>;

  beforeAll(async () => {
    be = await startTestBackend({ now: () => clock, adminToken: 'console-test-admin-token-0123456789' });
    admin = new Admin(be);
    await addOperator(be.service.repo, 'alice', 'operator', PASSWORDS.alice, clock);
    await addOperator(be.service.repo, 'victor', 'viewer', PASSWORDS.victor, clock);
    const { dev, enrol, link } = await enrolledDevice(be, admin);
    deviceId = enrol.deviceId;
    phone = { dev, link };
    closeDevice = () => dev.close();
    root = new Client(be.url); alice = new Client(be.url); victor = new Client(be.url);
    expect((await root.signIn({ adminToken: be.adminToken })).status).toBe(200);
    expect((await alice.signIn({ username: 'alice', password: PASSWORDS.alice })).status).toBe(200);
    expect((await victor.signIn({ username: 'victor', password: PASSWORDS.victor })).status).toBe(200);
  }, 60_000);
  afterAll(async () => { await closeDevice?.(); await be?.close(); });

  it('hashes passwords with scrypt, salted: the hash is not the password and verifies only it', async () => {
    const h1 = await hashPassword('correct horse battery');
    const h2 = await hashPassword('correct horse battery');
    expect(h1).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(h1).not.toBe(h2);
    expect(h1).not.toContain('correct');
    expect(await verifyPassword('correct horse battery', h1)).toBe(true);
    expect(await verifyPassword('correct horse batterz', h1)).toBe(false);
    expect((await be.service.repo.getOperator('alice'))!.passwordHash).not.toContain(PASSWORDS.alice);
  });

  it('refuses every route without a session, and a wrong admin token or password', async () => {
    const anon = new Client(be.url);
    for (const path of ['devices', `devices/${deviceId}`, 'alerts', 'payments', 'policy', 'stats']) {
      expect((await anon.call('GET', path)).status, path).toBe(401);
    }
    expect((await anon.call('POST', `devices/${deviceId}/suspend`, { reason: 'x' })).status).toBe(401);
    expect((await anon.signIn({ adminToken: 'not-the-token' })).status).toBe(401);
    const wrong = await anon.signIn({ username: 'alice', password: 'wrong-password-123' });
    expect(wrong.status).toBe(401);
    expect(wrong.json.message).toBe('wrong username or password');
    expect((await anon.signIn({ username: 'nobody', password: 'wrong-password-123' })).json.message).toBe('wrong username or password');
    expect((await anon.signIn({})).status).toBe(400);
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, Path=/console; Secure when asked (TLS at a proxy)', async () => {
    const c = new Client(be.url);
    await c.signIn({ adminToken: be.adminToken });
    expect(c.setCookie).toMatch(/^tt_console=[A-Za-z0-9_-]{43}; /);
    expect(c.setCookie).toContain('HttpOnly');
    expect(c.setCookie).toContain('SameSite=Strict');
    expect(c.setCookie).toContain('Path=/console');
    expect(c.setCookie).not.toContain('Secure');
    const secure = await startTestBackend({ consoleSecureCookies: true });
    try {
      const s = new Client(secure.url);
      expect((await s.signIn({ adminToken: secure.adminToken })).status).toBe(200);
      expect(s.setCookie).toMatch(/; Secure$/);
    } finally { await secure.close(); }
  });

  it('needs the CSRF token, a JSON body and this origin for every change', async () => {
    const path = `devices/${deviceId}/suspend`;
    expect((await alice.call('POST', path, { reason: 'csrf test' }, { csrf: null })).status).toBe(403);
    expect((await alice.call('POST', path, { reason: 'csrf test' }, { csrf: victor.csrf })).status).toBe(403);
    expect((await alice.call('POST', path, { reason: 'csrf test' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await alice.call('POST', path, { reason: 'csrf test' }, { type: 'text/plain' })).status).toBe(415);
    expect((await be.service.repo.getDevice(deviceId))!.state).toBe('active');
    // The same origin is fine (the browser sends it with fetch).
    expect((await alice.call('GET', `devices/${deviceId}`, undefined, { origin: be.url })).status).toBe(200);
  });

  it('lets a viewer read but not change: every change route refuses with 403 and nothing changes', async () => {
    expect((await victor.call('GET', 'devices')).status).toBe(200);
    expect((await victor.call('GET', 'session')).json).toMatchObject({ username: 'victor', role: 'viewer' });
    const changes: [string, unknown][] = [
      [`devices/${deviceId}/suspend`, { reason: 'viewer tries' }], [`devices/${deviceId}/retire`, { reason: 'viewer tries' }],
      [`devices/${deviceId}/expire-activation`, { reason: 'viewer tries' }], ['terminals', { merchantId: 'M-V', terminalId: 'TV1' }],
      [`payments/${deviceId}/any/reverse`, { reason: 'viewer tries' }],
      ['policy', { tunables: {}, reason: 'viewer tries' }],
    ];
    for (const [path, body] of changes) {
      const r = await victor.call('POST', path, body);
      expect(r.status, path).toBe(403);
      expect(r.json.message, path).toMatch(/viewer may not/);
    }
    expect((await be.service.repo.getDevice(deviceId))!.state).toBe('active');
    expect(await be.service.repo.getDeviceByTerminal('M-V', 'TV1')).toBeNull();
  });

  it('shows a device: state, merchant/terminal, last verdict and reasons, REE signals, IP and location history', async () => {
    const { json: d } = await victor.call('GET', `devices/${deviceId}`);
    expect(d).toMatchObject({ deviceId, merchantId: 'M-0001', state: 'active', lastVerdict: 'allow', lastIp: '192.0.2.10' });
    expect(d.lastVerdictDetail.reasons).toMatch(/all checks passed/);
    expect(d.location).toEqual({ latitude: 31.2304, longitude: 121.4737 });
    expect(d.signals.at(-1)).toMatchObject({ source: 'attestation', ip: '192.0.2.10', signals: { rooted: false, emulator: false, osVersion: 'Android 14' } });
    expect(d.history.map((h: any) => h.kind)).toContain('enrolment');
    expect(JSON.stringify(d)).not.toMatch(/publicKey|activationHash|panHash/);
  });

  it('keeps the IP and location history: a heartbeat from elsewhere adds a row, the same signals again do not', async () => {
    const before = (await victor.call('GET', `devices/${deviceId}`)).json.signals.length;
    await phone.link.heartbeat();
    expect((await victor.call('GET', `devices/${deviceId}`)).json.signals.length).toBe(before);
    phone.dev.health = { ...phone.dev.health, ipAddress: '203.0.113.99', location: { latitude: 39.9042, longitude: 116.4074, accuracyM: 20 } };
    await phone.link.heartbeat();
    const d = (await victor.call('GET', `devices/${deviceId}`)).json;
    expect(d.signals.length).toBe(before + 1);
    expect(d.signals.at(-1)).toMatchObject({ source: 'heartbeat', ip: '203.0.113.99', location: { latitude: 39.9042, longitude: 116.4074 } });
    expect(d.signals.at(-2).ip).toBe('192.0.2.10');
    expect(d.history.map((h: any) => h.detail).join('\n')).toMatch(/heartbeat: step-up: IP address changed; step-up: location jumped \d+ km/);
  });

  it('previews a signed manifest: the one in force changes nothing; a bad signature is refused', async () => {
    const m = buildManifest();
    const text = Buffer.from(m.bytes).toString('utf8');
    expect((await victor.call('POST', 'policy/preview', { manifest: text, signature: m.signature })).json).toMatchObject({ unchanged: true, changes: [] });
    const bad = await victor.call('POST', 'policy/preview', { manifest: text.replace('"tas"', '"tas" '), signature: m.signature });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/manifest refused/);
    expect((await alice.call('POST', 'policy', { manifest: text, signature: m.signature, reason: 'same again' })).status).toBe(409);
  });

  it('suspends and resumes with a reason, recording who and why in the device history; a reason is required', async () => {
    expect((await alice.call('POST', `devices/${deviceId}/suspend`, { reason: '  ' })).status).toBe(400);
    const s = await alice.call('POST', `devices/${deviceId}/suspend`, { reason: 'card skimming reported by the merchant' });
    expect(s.status).toBe(200);
    expect(s.json.state).toBe('suspended');
    expect((await be.service.paymentGate(deviceId)).allowed).toBe(false);
    const r = await root.call('POST', `devices/${deviceId}/resume`, { reason: 'merchant checked the phone' });
    expect(r.json.state).toBe('active');
    const details = (await be.service.repo.history(deviceId)).map((h) => h.detail);
    expect(details).toContain('active -> suspended: card skimming reported by the merchant (by operator alice)');
    expect(details).toContain('suspended -> active: merchant checked the phone (by admin token)');
    // The alerts view has the notices the device gets.
    const { json: alerts } = await victor.call('GET', `alerts?device=${deviceId}&type=DEVICE_SUSPENDED,DEVICE_REACTIVATED`);
    expect(alerts.map((n: any) => n.type)).toEqual(['DEVICE_REACTIVATED', 'DEVICE_SUSPENDED']);
    const after = alerts[0].id;
    expect((await victor.call('GET', `alerts?after=${after}&device=${deviceId}`)).json).toEqual([]);
    expect((await victor.call('GET', 'alerts?type=NOPE')).status).toBe(400);
  });

  it('creates a terminal with its activation code and expires an unused code', async () => {
    const t = await alice.call('POST', 'terminals', { merchantId: 'M-CONSOLE', terminalId: 'TCON0001' });
    expect(t.status).toBe(200);
    expect(t.json.activationCode).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    const id = t.json.deviceId;
    expect((await victor.call('GET', `devices/${id}`)).json.activation).toBe('pending');
    expect((await be.service.repo.history(id)).map((h) => h.detail)).toEqual(['registered by the back office for acquirer default (by operator alice)']);
    clock += 1;
    const e = await alice.call('POST', `devices/${id}/expire-activation`, { reason: 'code sent to the wrong shop' });
    expect(e.json.activation).toBe('expired');
    expect((await be.service.repo.history(id)).map((h) => h.detail)).toContain('activation code expired: code sent to the wrong shop (by operator alice)');
    expect((await alice.call('POST', `devices/${id}/expire-activation`, { reason: 'again' })).status).toBe(200);
    expect((await alice.call('POST', 'terminals', { merchantId: 'bad merchant id!', terminalId: 'T' })).status).toBe(400);
  });

  it('previews a policy change with the devices whose verdict it changes, then rolls it out with who and why', async () => {
    const cur = (await victor.call('GET', 'policy')).json.current;
    const tunables = { ...cur, runtimeVersions: ['9.9.9'] };
    const p = await victor.call('POST', 'policy/preview', { tunables });
    expect(p.status).toBe(200);
    expect(p.json.changes).toEqual([{ field: 'runtimeVersions', added: ['9.9.9'], removed: cur.runtimeVersions }]);
    const mine = p.json.affected.find((x: any) => x.deviceId === deviceId);
    expect(mine).toMatchObject({ before: 'allow', after: 'suspend' });
    expect(mine.reasons.join()).toMatch(/runtime version .* is not allowed/);
    expect(be.service.policyVersion).toBe(cur.version); // a preview changes nothing
    // A harmless change is rolled out: a longer heartbeat timeout.
    const next = { ...cur, heartbeatTimeoutMs: cur.heartbeatTimeoutMs + 60_000 };
    expect((await alice.call('POST', 'policy', { tunables: next })).status).toBe(400); // no reason
    const r = await alice.call('POST', 'policy', { tunables: next, reason: 'fewer false alarms on weak networks' });
    expect(r.json.version).toBe(cur.version + 1);
    const v = (await victor.call('GET', 'policy')).json;
    expect(v.versions[0]).toMatchObject({ version: cur.version + 1, changes: [{ field: 'heartbeatTimeoutMs', from: cur.heartbeatTimeoutMs, to: next.heartbeatTimeoutMs }] });
    expect((await be.service.repo.history(deviceId)).map((h) => h.detail)).toContain(`policy version ${cur.version + 1} rolled out: fewer false alarms on weak networks (by operator alice)`);
    expect((await alice.call('POST', 'policy/preview', { tunables: { ...cur, bootStates: ['NOT_A_STATE'] } })).status).toBe(400);
    // The current policy again is no change: the preview says so and there is nothing to roll out.
    const same = (await victor.call('GET', 'policy')).json.current;
    expect((await victor.call('POST', 'policy/preview', { tunables: same })).json).toMatchObject({ unchanged: true, changes: [], affected: [] });
    expect((await alice.call('POST', 'policy', { tunables: same, reason: 'again' })).status).toBe(409);
    expect(be.service.policyVersion).toBe(cur.version + 1);
  });

  it('answers the journal search and the plots; refuses a bad filter', async () => {
    expect((await victor.call('GET', `payments?device=${deviceId}`)).json).toEqual([]);
    expect((await victor.call('GET', 'payments?outcome=maybe')).status).toBe(400);
    expect((await victor.call('GET', 'payments?from=yesterday')).status).toBe(400);
    expect((await victor.call('GET', `payments/${deviceId}/none`)).status).toBe(404);
    expect((await alice.call('POST', `payments/${deviceId}/none/reverse`, { reason: 'x' })).status).toBe(404);
    const s = (await victor.call('GET', 'stats?minutes=60')).json;
    expect(s.bucketMs).toBe(60_000);
    expect(s.toMs - s.fromMs).toBe(3_600_000);
    expect(s.verdicts.reduce((n: number, v: any) => n + (v.verdict === 'allow' ? v.n : 0), 0)).toBeGreaterThanOrEqual(1);
    expect((await victor.call('GET', 'stats?minutes=0')).status).toBe(400);
    expect((await victor.call('GET', 'payments/dev-x/%E0%A4%A')).status).toBe(400); // a broken %-escape is the caller's error, not a 500
  });

  it('ends a session on sign-out and after 8 hours', async () => {
    const c = new Client(be.url);
    await c.signIn({ adminToken: be.adminToken });
    expect((await c.call('DELETE', 'session', undefined, { csrf: null })).status).toBe(403);
    expect((await c.call('DELETE', 'session')).status).toBe(200);
    expect((await c.call('GET', 'devices')).status).toBe(401);
    const d = new Client(be.url);
    await d.signIn({ adminToken: be.adminToken });
    expect((await d.call('GET', 'devices')).status).toBe(200);
    clock += SESSION_TTL_MS;
    expect((await d.call('GET', 'devices')).status).toBe(401);
    await alice.signIn({ username: 'alice', password: PASSWORDS.alice }); // the later tests' sessions
    await victor.signIn({ username: 'victor', password: PASSWORDS.victor });
  });

  it('applies an account change at once: a disabled operator\'s session ends, a changed role applies', async () => {
    await addOperator(be.service.repo, 'mallory', 'operator', 'mallory-operator-pass', clock);
    const m = new Client(be.url);
    expect((await m.signIn({ username: 'mallory', password: 'mallory-operator-pass' })).status).toBe(200);
    await be.service.repo.putOperator({ ...(await be.service.repo.getOperator('mallory'))!, role: 'viewer' });
    expect((await m.call('GET', 'session')).json.role).toBe('viewer');
    expect((await m.call('POST', `devices/${deviceId}/suspend`, { reason: 'demoted' })).status).toBe(403);
    await be.service.repo.putOperator({ ...(await be.service.repo.getOperator('mallory'))!, disabled: true });
    expect((await m.call('GET', 'devices')).status).toBe(401);
    expect((await m.signIn({ username: 'mallory', password: 'mallory-operator-pass' })).status).toBe(401);
  });

  it('refuses sign-in for a while after 5 failures for a name', async () => {
    const c = new Client(be.url);
    for (let i = 0; i < 5; i++) expect((await c.signIn({ username: 'victor', password: 'not-his-password' })).status).toBe(401);
    expect((await c.signIn({ username: 'victor', password: PASSWORDS.victor })).status).toBe(429);
    clock += 15 * 60_000 + 1;
    expect((await c.signIn({ username: 'victor', password: PASSWORDS.victor })).status).toBe(200);
  });

  it.skipIf(!existsSync(join(CONSOLE_DIR, 'app.js')))('serves the built page with a strict content security policy (needs npm run build)', async () => {
    const r = await fetch(`${be.url}/console`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await r.text()).toContain('/console/app.js');
    const js = await fetch(`${be.url}/console/app.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${be.url}/console/../backend.db`)).status).toBe(404);
    expect((await fetch(`${be.url}/console/build.ts`)).status).toBe(404);
    const lic = await (await fetch(`${be.url}/console/licenses.txt`)).text();
    for (const p of ['preact', 'htm', 'uplot']) expect(lic).toMatch(new RegExp(`^== ${p} \\d+\\.\\d+\\.\\d+ \\(`, 'm'));
  });
});
