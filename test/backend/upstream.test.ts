// Issue 16 §1: an acquirer whose authorization route is 'upstream'. Its payments pass every local
// check here, then go as the JSON message of backend/authorization/upstream.ts to its issuer: the
// simulated issuer served over HTTP (backend/issuer-sim/upstream-server.ts, its own card accounts,
// the same decision code as the local route). The online PIN leaves translated to the acquirer's
// zone PIN key and is verified upstream under it. Upstream down or answering nonsense: a typed
// decline (ISSUER_UNAVAILABLE, 91), journaled, never an approval. The default acquirer keeps its
// local simulated issuer. SQLite only (vitest.config.ts PG_SQLITE_ONLY): the simulated upstream
// opens the back end's HSM through its SQLite file, standing for both ends of the zone PIN key.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBackend, Admin, tid, a, type Backend } from './harness.ts';
import { newPhone, signedToken, pay, unionpay, type Phone } from './phone.ts';
import { putAcquirer, zpkIdOf, checkUpstreamUrl } from '../../backend/tenants.ts';
import { SqliteRepository } from '../../backend/store/sqlite.ts';
import { SoftwareHsm } from '../../backend/hsm/software-hsm.ts';
import { startUpstreamIssuer, parseUpstreamRequest, UpstreamMessageError, type UpstreamIssuer } from '../../backend/issuer-sim/upstream-server.ts';
import { readAnswer, UPSTREAM_VERSION } from '../../backend/authorization/upstream.ts';
import { panHash } from '../../backend/issuer-sim/index.ts';

const U = 'bank-u';
const R = pay.DeclineReason;
let be: Backend;
let up: UpstreamIssuer;
let upstreamDb: SqliteRepository, hsmDb: SqliteRepository;
let tokenU = '';
let phoneU: Phone, phoneA: Phone;
let url = '';

const decision = (r: { decision?: number | null }) => pay.Decision[r.decision ?? 0];
const reason = (r: { reason?: number | null }) => pay.DeclineReason[r.reason ?? 0];
const forU = {
  async createTerminal(_m: string, t: string) {
    const admin = new Admin(be);
    const r = await admin.req('POST', '/v1/admin/terminals', a.CreateTerminalRequest.encode({ merchantId: 'M-U', terminalId: t }).finish(), tokenU);
    expect(r.status, r.error ?? '').toBe(201);
    return a.CreateTerminalResponse.decode(r.body);
  },
};
/** Balance and PIN tries of the unionpay test card at the upstream issuer and at the back end's own. */
const upstreamAccount = async () => (await upstreamDb.getCardAccount(panHash(unionpay.pan)))!;
const localAccount = async () => (await be.service.repo.getCardAccount(panHash(unionpay.pan)))!;
/** A misbehaving upstream's answers (a test double for a broken issuer host, not a decision maker). */
async function answering(status: number, body: unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/authorize`, server };
}

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-be-'));
  be = await startTestBackend({ dataDir, upstreamTimeoutMs: 8_000 }); // generous: the machine is shared
  // The simulated upstream: its own accounts; the back end's HSM (TEST ONLY: both ends of the zone).
  hsmDb = new SqliteRepository(join(dataDir, 'backend.db'));
  upstreamDb = new SqliteRepository(join(mkdtempSync(join(tmpdir(), 'tt-up-')), 'upstream-issuer.db'));
  up = await startUpstreamIssuer({ repo: upstreamDb, hsm: await SoftwareHsm.open(join(dataDir, 'hsm'), hsmDb) });
  url = up.url;
  tokenU = (await putAcquirer(be.service.repo, { acquirerId: U, name: 'Bank U', route: 'upstream', upstreamUrl: url, newToken: true }, Date.now())).token!;
  phoneU = await newPhone(be.url, forU, tid());
  phoneA = await newPhone(be.url, new Admin(be), tid());
}, 240_000);
afterAll(async () => {
  await phoneU?.halt().catch(() => undefined);
  await phoneA?.halt().catch(() => undefined);
  await be?.close();
  await up?.close();
  await upstreamDb?.close();
  await hsmDb?.close();
});

describe('the upstream authorization route (issue 16 §1)', () => {
  test('bank-u pays end to end through the app API: decided by its upstream issuer, journaled here', async () => {
    expect((await be.service.repo.getAcquirer(U))).toMatchObject({ route: 'upstream', upstreamUrl: url });
    expect(await be.service.hsm.hasBdk('acq.bank-u.bdk')).toBe(true);
    const beforeUp = (await upstreamAccount()).balanceMinor, beforeLocal = (await localAccount()).balanceMinor;
    const t = await signedToken(phoneU);
    const r = await phoneU.link.authorize(await phoneU.payment(25_00, t));
    expect([decision(r), r.responseCode], r.reasonText).toEqual(['DECISION_APPROVED', '00']);
    expect([8, 4]).toContain(r.arpc.length); // the upstream's ARPC reaches the card
    expect(r.issuerAuthenticationData.length).toBeGreaterThan(r.arpc.length);
    expect((await upstreamAccount()).balanceMinor).toBe(beforeUp - 25_00); // the upstream's account moved
    expect((await localAccount()).balanceMinor).toBe(beforeLocal); // the back end's own simulated issuer was not asked
    const row = (await be.service.repo.getPayment(phoneU.link.state.deviceId, r.clientTransactionId))!;
    expect([row.decision, row.reason, row.accountDelta]).toEqual(['approved', R.DECLINE_REASON_NONE, 0]);
    expect(Buffer.from(pay.AuthorizeResponse.decode(row.response).arpc).equals(Buffer.from(r.arpc))).toBe(true);
  }, 120_000);

  test('online PIN: translated to bank-u\'s zone PIN key and verified upstream; a wrong PIN is declined there', async () => {
    const t = await signedToken(phoneU);
    const wrong = await phoneU.link.authorize(await phoneU.payment(1_500_00, t, 'unionpay', '9999'));
    expect([decision(wrong), reason(wrong), wrong.responseCode]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_INCORRECT_PIN', '55']);
    // The try was counted by the upstream issuer, not by the back end's own.
    expect((await upstreamAccount()).pinTries).toBe(1);
    expect((await localAccount()).pinTries).toBe(0);
    const right = await phoneU.link.authorize(await phoneU.payment(1_500_00, t, 'unionpay', '1234'));
    expect(decision(right), right.reasonText).toBe('DECISION_APPROVED');
    expect((await upstreamAccount()).pinTries).toBe(0);
    expect(zpkIdOf(U)).toBe('acq.bank-u.zpk');
  }, 120_000);

  test('the default acquirer is unaffected: its payments are decided by the back end\'s simulated issuer', async () => {
    const beforeUp = (await upstreamAccount()).balanceMinor, beforeLocal = (await localAccount()).balanceMinor;
    const t = await signedToken(phoneA);
    const r = await phoneA.link.authorize(await phoneA.payment(30_00, t));
    expect(decision(r), r.reasonText).toBe('DECISION_APPROVED');
    expect(r.reasonText).toBe('approved');
    expect((await localAccount()).balanceMinor).toBe(beforeLocal - 30_00);
    expect((await upstreamAccount()).balanceMinor).toBe(beforeUp);
  }, 120_000);

  test('upstream down, failing or contradicting itself: ISSUER_UNAVAILABLE (91), journaled, never an approval', async () => {
    const t = await signedToken(phoneU);
    const broken = [
      await answering(500, { error: 'down for maintenance' }),
      await answering(200, { version: UPSTREAM_VERSION, approved: true, responseCode: '51', reason: 'DECLINE_REASON_NONE', reasonText: '', arpc: '', issuerAuthenticationData: '' }),
      await answering(200, { version: 2, approved: true, responseCode: '00', reason: 'DECLINE_REASON_NONE', reasonText: '', arpc: '', issuerAuthenticationData: '' }),
    ];
    // An upstream that takes the request and never answers: the timeout ends the wait.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    broken.push({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1/authorize`, server: silent });
    const closed = await answering(200, {});
    await new Promise<void>((r) => closed.server.close(() => r())); // nothing listens there any more
    const beforeUp = (await upstreamAccount()).balanceMinor;
    try {
      for (const target of [...broken.map((b) => b.url), closed.url]) {
        await putAcquirer(be.service.repo, { acquirerId: U, route: 'upstream', upstreamUrl: target }, Date.now());
        const r = await phoneU.link.authorize(await phoneU.payment(10_00, t));
        expect([decision(r), reason(r), r.responseCode, r.authorizationCode], `${target}: ${r.reasonText}`).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_ISSUER_UNAVAILABLE', '91', '']);
        expect(r.reasonText).toMatch(target === broken[3].url ? /no answer within 8000 ms/ : /upstream issuer/);
        const row = (await be.service.repo.getPayment(phoneU.link.state.deviceId, r.clientTransactionId))!;
        expect([row.decision, row.reason]).toEqual(['declined', R.DECLINE_REASON_ISSUER_UNAVAILABLE]);
      }
    } finally {
      for (const b of broken) await new Promise<void>((r) => { b.server.closeAllConnections(); b.server.close(() => r()); });
      await putAcquirer(be.service.repo, { acquirerId: U, route: 'upstream', upstreamUrl: url }, Date.now());
    }
    expect((await upstreamAccount()).balanceMinor).toBe(beforeUp);
    // The real upstream back: paid again.
    const again = await phoneU.link.authorize(await phoneU.payment(10_00, t));
    expect(decision(again), again.reasonText).toBe('DECISION_APPROVED');
  }, 180_000);

  test('the upstream refuses a malformed message with HTTP 400 (no decision)', async () => {
    const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const good = {
      version: 1, acquirerId: U, merchantId: 'M-U', terminalId: 'T', clientTransactionId: 'x', reference: 'TT1', type: 'purchase', amountMinor: 100,
      currency: '156', maskedPan: '622848*********0017', card: { pan: unionpay.pan, psn: '01', expiry: '3012', iccData: '9f360200ff' }, timeMs: 0,
    };
    expect(() => parseUpstreamRequest(good)).not.toThrow();
    const bad: [string, unknown][] = [
      ['version', { ...good, version: 2 }], ['type', { ...good, type: 'cashback' }], ['amountMinor', { ...good, amountMinor: 0 }],
      ['amountMinor', { ...good, amountMinor: 1.5 }], ['currency', { ...good, currency: 'CNY' }], ['card.pan', { ...good, card: { ...good.card, pan: '1234' } }],
      ['card.psn', { ...good, card: { ...good.card, psn: '1' } }], ['card.expiry', { ...good, card: { ...good.card, expiry: '30-12' } }],
      ['card.iccData', { ...good, card: { ...good.card, iccData: 'xyz' } }], ['card is missing', { ...good, card: null }],
      ['pin.format', { ...good, pin: { format: 'ISO-9564-0', block: '00'.repeat(16), zpkId: 'z' } }],
      ['pin.block', { ...good, pin: { format: 'ISO-9564-4', block: '00'.repeat(8), zpkId: 'z' } }],
      ['pin.zpkId', { ...good, pin: { format: 'ISO-9564-4', block: '00'.repeat(16), zpkId: 'a/b' } }],
      ['JSON object', [good]],
    ];
    for (const [field, m] of bad) {
      expect(() => parseUpstreamRequest(m), field).toThrow(UpstreamMessageError);
      expect(() => parseUpstreamRequest(m), field).toThrow(field);
      expect((await post(JSON.stringify(m))).status, field).toBe(400);
    }
    expect((await post('{not json')).status).toBe(400);
    expect((await fetch(url.replace('/v1/authorize', '/other'), { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('the upstream\'s answer is read strictly (table)', () => {
  const ok = { version: 1, approved: true, responseCode: '00', reason: 'DECLINE_REASON_NONE', reasonText: '', arpc: '0011223344556677', issuerAuthenticationData: '00112233445566773030' };
  const declined = { ...ok, approved: false, responseCode: '51', reason: 'DECLINE_REASON_INSUFFICIENT_FUNDS', reasonText: 'insufficient funds' };
  test.each([
    ['an approval', ok, 'DECLINE_REASON_NONE'],
    ['a decline', declined, 'DECLINE_REASON_INSUFFICIENT_FUNDS'],
    ['a decline without ARPC', { ...declined, arpc: '', issuerAuthenticationData: '' }, 'DECLINE_REASON_INSUFFICIENT_FUNDS'],
    ['not an object', 'approved', 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['null', null, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['a list', [ok], 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['another version', { ...ok, version: 2 }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['approved as a string', { ...ok, approved: 'true' }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['approved with code 05', { ...ok, responseCode: '05' }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['approved with a decline reason', { ...ok, reason: 'DECLINE_REASON_INSUFFICIENT_FUNDS', responseCode: '51' }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['declined with code 00', { ...declined, responseCode: '00' }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['declined with reason NONE', { ...declined, reason: 'DECLINE_REASON_NONE', responseCode: '00' }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['an unknown reason', { ...declined, reason: 'DECLINE_REASON_NOPE' }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['a device reason', { ...declined, reason: 'DECLINE_REASON_DEVICE_NOT_ALLOWED', responseCode: '57' }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['ARPC not hex', { ...ok, arpc: 'zz' }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['ARPC of 9 bytes', { ...ok, arpc: '00'.repeat(9) }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['ARPC of 8 bytes', { ...ok, arpc: '00'.repeat(8) }, 'DECLINE_REASON_NONE'],
    ['IAD of 17 bytes', { ...ok, issuerAuthenticationData: '00'.repeat(17) }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
    ['IAD of 16 bytes', { ...ok, issuerAuthenticationData: '00'.repeat(16) }, 'DECLINE_REASON_NONE'],
    ['IAD missing', { ...ok, issuerAuthenticationData: undefined }, 'DECLINE_REASON_ISSUER_UNAVAILABLE'],
  ])('%s', (_name, body, want) => {
    expect(pay.DeclineReason[readAnswer(body).reason]).toBe(want);
  });
  test('the decline text is the upstream\'s, bounded', () => {
    expect(readAnswer(declined).text).toBe('the upstream issuer: insufficient funds');
    expect(readAnswer({ ...declined, reasonText: 'x'.repeat(500) }).text.length).toBe('the upstream issuer: '.length + 200);
    expect(readAnswer({ ...declined, reasonText: 7 }).text).toBe('the upstream issuer: 51');
  });
});

describe('an acquirer\'s upstream route is configured soundly', () => {
  test('the upstream route needs an http(s) URL without credentials; other routes take none', async () => {
    const repo = be.service.repo;
    await expect(putAcquirer(repo, { acquirerId: 'bank-v', route: 'upstream' }, 1)).rejects.toThrow(/needs an upstream URL/);
    await expect(putAcquirer(repo, { acquirerId: 'bank-v', route: 'issuer-sim', upstreamUrl: 'http://x' }, 1)).rejects.toThrow(/only for the upstream route/);
    await expect(putAcquirer(repo, { acquirerId: 'bank-v', route: 'carrier-pigeon' }, 1)).rejects.toThrow(/issuer-sim, upstream/);
    expect(await repo.getAcquirer('bank-v')).toBeNull();
    expect(() => checkUpstreamUrl('ftp://issuer.example/a')).toThrow(/http/);
    expect(() => checkUpstreamUrl('http://user:pw@issuer.example/a')).toThrow(/credentials/);
    expect(() => checkUpstreamUrl('issuer.example')).toThrow(/not a URL/);
    expect(checkUpstreamUrl('https://issuer.example:8443/v1/authorize')).toBe('https://issuer.example:8443/v1/authorize');
    // A change of name keeps the route and its URL; back to issuer-sim drops the URL.
    expect((await putAcquirer(repo, { acquirerId: U, name: 'Bank U2' }, 2)).acquirer).toMatchObject({ route: 'upstream', upstreamUrl: url });
    const back = (await putAcquirer(repo, { acquirerId: 'bank-w', route: 'upstream', upstreamUrl: 'http://127.0.0.1:9/x' }, 3)).acquirer;
    expect(back.upstreamUrl).toBe('http://127.0.0.1:9/x');
    expect((await putAcquirer(repo, { acquirerId: 'bank-w', route: 'issuer-sim' }, 4)).acquirer).toMatchObject({ route: 'issuer-sim', upstreamUrl: '' });
  });
});
