// Issue 16 §1: acquirers as tenants, through the app side (real phones: TEE, kernel, txsign) and
// the HTTP API, on the store the project runs (SQLite; PostgreSQL in the `postgres` project). Two
// acquirers: `default` (the one that existed before tenants) and `bank-b`, configured with its own
// token and limits. Each phone is enrolled by its acquirer's activation code; each pays for its
// own merchant under its own acquirer's BDK and limits and never for the other's merchant. Then
// every route of every route table — the device operations (DEVICE_OPS), the back-office API
// (adminRoutes) and the console's JSON API (consoleRoutes) — is tried as the wrong tenant, read
// from the tables themselves so a new route cannot be left out, and must be refused or answer
// only the caller's own rows; the victim's device, payment and policy are unchanged afterwards.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, Admin, tid, a, tableRows, type Backend } from './harness.ts';
import { newPhone, signedToken, pay, type Phone } from './phone.ts';
import { putAcquirer, bdkIdOf, parseLimits, keyIdIn, keyAgreementKeyOf } from '../../backend/tenants.ts';
import { issuerKeyId, TEST_IMK_ID, TEST_ISSUER_MASTER_KEY_AC_HEX } from '../../backend/issuer-sim/index.ts';
import { verifyP256 } from '../../backend/crypto/p256.ts';
import { adminRoutes } from '../../backend/http/admin.ts';
import { consoleRoutes } from '../../backend/console/routes.ts';
import { ConsoleViews } from '../../backend/console/views.ts';
import { DEVICE_OPS, BODY_FIELD } from '../../backend/service.ts';
import { addOperator } from '../../backend/console/accounts.ts';
import { BackendError } from '../../ree/attestation/backend-link.ts';
import { DEFAULT_ACQUIRER } from '../../backend/store/repository.ts';
import { sha256Hex } from '../../backend/util.ts';

const B = 'bank-b';
/** bank-b's own CNY limits: contactless up to 499.99, no CVM below 400.00 (the default acquirer's: 5000.00 / 1000.01). */
const B_LIMITS = JSON.stringify([{ currency: '156', transactionLimit: 500_00, cvmRequiredLimit: 400_00 }]);

let be: Backend;
let admin: Admin;
let tokenB = '';
let phoneA: Phone, phoneB: Phone;
let idA = '', idB = '';
/** A's approved payment (client transaction id, reference). */
let paidA = { ctid: '', reference: '' };

const forA = (admin: Admin) => ({ createTerminal: (_m: string, t: string) => admin.createTerminal('M-A', t) });
async function createForB(merchantId: string, terminalId: string, query = '') {
  return admin.req('POST', `/v1/admin/terminals${query}`, a.CreateTerminalRequest.encode({ merchantId, terminalId }).finish(), tokenB);
}
const forB = {
  async createTerminal(_m: string, t: string) {
    const r = await createForB('M-B', t);
    expect(r.status, r.error ?? '').toBe(201);
    return a.CreateTerminalResponse.decode(r.body);
  },
};
const decision = (r: { decision?: number | null }) => pay.Decision[r.decision ?? 0];
const reason = (r: { reason?: number | null }) => pay.DeclineReason[r.reason ?? 0];

beforeAll(async () => {
  be = await startTestBackend();
  admin = new Admin(be);
  tokenB = (await putAcquirer(be.service.repo, { acquirerId: B, name: 'Bank B', limits: B_LIMITS, newToken: true }, Date.now())).token!;
  phoneA = await newPhone(be.url, forA(admin), tid());
  phoneB = await newPhone(be.url, forB, tid());
  idA = phoneA.link.state.deviceId;
  idB = phoneB.link.state.deviceId;
}, 240_000);
afterAll(async () => {
  await phoneA?.halt().catch(() => undefined);
  await phoneB?.halt().catch(() => undefined);
  await be?.close();
});

describe('acquirers as tenants (issue 16 §1)', () => {
  test('the activation code says the acquirer; each device gets its DUKPT key from its own acquirer\'s BDK', async () => {
    expect((await be.service.repo.getDevice(idA))?.acquirerId).toBe(DEFAULT_ACQUIRER);
    expect((await be.service.repo.getDevice(idB))?.acquirerId).toBe(B);
    expect(bdkIdOf(B)).toBe('acq.bank-b.bdk');
    expect(await be.service.hsm.hasBdk(bdkIdOf(B))).toBe(true);
    // The initial key id starts with the BDK's id (SHA-256 of its HSM name): each from its own.
    const ik = async (id: string) => /initial key ([0-9a-f]{8})/.exec((await be.service.repo.history(id)).map((h) => h.detail).join('\n'))?.[1];
    expect(await ik(idA)).toBe(sha256Hex('bdk-default').slice(0, 8));
    expect(await ik(idB)).toBe(sha256Hex(bdkIdOf(B)).slice(0, 8));
    // bank-b started from the default acquirer's TA allowlist as its own version 1.
    expect(be.service.currentPolicy(B).version).toBe(1);
    const tas = (acq: string) => be.service.currentPolicy(acq).tas.map((t) => Buffer.from(t.sha256 ?? []).toString('hex'));
    expect(tas(B)).toEqual(tas(DEFAULT_ACQUIRER));
    expect(tas(B).length).toBeGreaterThan(0);
  });

  test('each pays for its own merchant under its own acquirer\'s limits, never for the other acquirer\'s merchant', async () => {
    const tA = await signedToken(phoneA);
    const a1 = await phoneA.link.authorize(await phoneA.payment(600_00, tA));
    expect(decision(a1), a1.reasonText).toBe('DECISION_APPROVED'); // under the default acquirer's limits
    paidA = { ctid: a1.clientTransactionId, reference: a1.transactionReference };

    const tB = await signedToken(phoneB);
    const b1 = await phoneB.link.authorize(await phoneB.payment(600_00, tB));
    expect([decision(b1), reason(b1)]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_OVER_LIMIT']); // bank-b's own limits
    const b0 = await phoneB.link.authorize(await phoneB.payment(450_00, tB));
    expect([decision(b0), reason(b0)]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_PIN_REQUIRED']);
    const b2 = await phoneB.link.authorize(await phoneB.payment(100_00, tB));
    expect(decision(b2), b2.reasonText).toBe('DECISION_APPROVED');

    // B's TEE signs a record for A's merchant: refused, nothing journaled.
    phoneB.merchantId = 'M-A';
    try {
      const b3 = await phoneB.link.authorize(await phoneB.payment(100_00, tB));
      expect([decision(b3), reason(b3)]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_INVALID_TRANSACTION']);
      expect(b3.reasonText).toMatch(/another merchant/);
    } finally {
      phoneB.merchantId = 'M-B';
    }
    // The merchant's acquirer is checked where the payment is decided, not only at registration:
    // were M-A's row to say bank-b (a merchant moved to another acquirer), A's device no longer pays for it.
    await tableRows(be, "UPDATE merchants SET acquirer_id = 'bank-b' WHERE merchant_id = 'M-A' RETURNING merchant_id");
    try {
      const a2 = await phoneA.link.authorize(await phoneA.payment(10_00, tA));
      expect([decision(a2), reason(a2)]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_INVALID_TRANSACTION']);
      expect(a2.reasonText).toMatch(/merchant of another acquirer/);
    } finally {
      await tableRows(be, "UPDATE merchants SET acquirer_id = 'default' WHERE merchant_id = 'M-A' RETURNING merchant_id");
    }
    // bank-b cannot register a terminal of A's merchant either.
    const r = await createForB('M-A', tid());
    expect([r.status, r.error]).toEqual([409, 'ERROR_CONFLICT']);
  });

  test('issuer keys per acquirer: bank-b\'s route verifies the ARQC and the PIN with the issuer keys in its own HSM namespace', async () => {
    const hsm = be.service.hsm;
    expect([keyIdIn(DEFAULT_ACQUIRER, 'imk-test'), keyIdIn(B, 'imk-test'), issuerKeyId(B, TEST_IMK_ID)]).toEqual(['imk-test', 'acq.bank-b.imk-test', 'acq.bank-b.imk-test']);
    expect(() => keyIdIn('B!', 'imk-test')).toThrow(/acquirer id/);
    // Made when the back end first served bank-b (TDES and SM4), beside the default acquirer's own.
    for (const alg of ['tdes', 'sm4'] as const) {
      expect(await hsm.hasIssuerMasterKey('acq.bank-b.imk-test', alg), alg).toBe(true);
      expect(await hsm.hasIssuerMasterKey('imk-test', alg), alg).toBe(true);
    }
    const tB = await signedToken(phoneB);
    const tA = await signedToken(phoneA);
    // bank-b's key replaced by another value: bank-b's payments fail the ARQC, the default acquirer's still pass.
    const wrong = Buffer.from(TEST_ISSUER_MASTER_KEY_AC_HEX, 'hex');
    wrong[0] ^= 0x02;
    await hsm.importIssuerMasterKey('acq.bank-b.imk-test', wrong);
    try {
      const b = await phoneB.link.authorize(await phoneB.payment(10_00, tB));
      expect([decision(b), reason(b)]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_CRYPTOGRAM_FAILED']);
      const a1 = await phoneA.link.authorize(await phoneA.payment(10_00, tA));
      expect(decision(a1), a1.reasonText).toBe('DECISION_APPROVED');
    } finally {
      await hsm.importIssuerMasterKey('acq.bank-b.imk-test', Buffer.from(TEST_ISSUER_MASTER_KEY_AC_HEX, 'hex'));
    }
    const b2 = await phoneB.link.authorize(await phoneB.payment(10_00, tB));
    expect(decision(b2), b2.reasonText).toBe('DECISION_APPROVED');

    // The online PIN is checked against bank-b's own PIN verification key and value.
    const unionpay = (await be.service.payments.issuer.account('6228480000000000017'))!;
    const own = (await be.service.repo.getIssuerPvv(B, unionpay.panHash))!;
    expect(own.pvkId).toBe('acq.bank-b.pvk-issuer-sim');
    expect(Buffer.from(own.pvv).equals(Buffer.from(unionpay.pvv))).toBe(false); // another key, another value
    expect(await be.service.repo.getIssuerPvv(DEFAULT_ACQUIRER, unionpay.panHash)).toBeNull(); // the default acquirer's is in the account
    const wrongPin = await phoneB.link.authorize(await phoneB.payment(450_00, tB, 'unionpay', '9999'));
    expect([decision(wrongPin), reason(wrongPin)]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_INCORRECT_PIN']);
    await tableRows(be, "DELETE FROM issuer_pvvs WHERE acquirer_id = 'bank-b' RETURNING pan_hash");
    const noPvv = await phoneB.link.authorize(await phoneB.payment(450_00, tB, 'unionpay', '1234'));
    expect([decision(noPvv), reason(noPvv)]).toEqual(['DECISION_DECLINED', 'DECLINE_REASON_UNKNOWN_CARD']);
    await be.service.payments.issuer.ensureKeys(B); // issues bank-b's PVVs again under its PVK
    const rightPin = await phoneB.link.authorize(await phoneB.payment(450_00, tB, 'unionpay', '1234'));
    expect(decision(rightPin), rightPin.reasonText).toBe('DECISION_APPROVED');
    const rightA = await phoneA.link.authorize(await phoneA.payment(20_00, tA, 'unionpay', '1234'));
    expect(decision(rightA), rightA.reasonText).toBe('DECISION_APPROVED');
  }, 180_000);

  test('PIN translation for an upstream route: DUKPT format 4 → the acquirer\'s zone PIN key, format 4, in one HSM operation', async () => {
    const hsm = be.service.hsm;
    const tB = await signedToken(phoneB);
    await phoneB.payment(450_00, tB, 'unionpay', '1234');
    const { block, ksn } = phoneB.lastPin!;
    const pan = '6228480000000000017';
    const acct = (await be.service.payments.issuer.account(pan))!;
    const zpk = keyIdIn(B, 'zpk');
    await hsm.ensureZonePinKey(zpk);
    await hsm.ensureZonePinKey(zpk); // made once
    await hsm.ensureZonePinKey('zpk-other');
    const zoned = (await hsm.translateDukptPinToZpk(bdkIdOf(B), ksn, block, pan, zpk))!;
    expect(zoned.length).toBe(16);
    expect(Buffer.from(zoned).equals(Buffer.from(block))).toBe(false);
    // The receiving side finds the same PIN under the zone PIN key, and under no other key.
    expect(await hsm.verifyZpkPin(zpk, zoned, pan, acct.pvkId, acct.pvv)).toBe('match');
    expect(await hsm.verifyZpkPin('zpk-other', zoned, pan, acct.pvkId, acct.pvv)).toBe('bad-block');
    expect(await hsm.verifyZpkPin(zpk, zoned, '6228480000000000026', acct.pvkId, acct.pvv)).toBe('bad-block'); // another PAN field
    const other = (await be.service.payments.issuer.account('6228480000000000026'))!;
    expect(await hsm.verifyZpkPin(zpk, zoned, pan, other.pvkId, Uint8Array.from(other.pvv, (x) => x ^ 1))).toBe('mismatch');
    // Fresh random fill each time: the same PIN gives another block.
    const again = (await hsm.translateDukptPinToZpk(bdkIdOf(B), ksn, block, pan, zpk))!;
    expect(Buffer.from(again).equals(Buffer.from(zoned))).toBe(false);
    expect(await hsm.verifyZpkPin(zpk, again, pan, acct.pvkId, acct.pvv)).toBe('match');
    // Not a PIN block under that DUKPT key (another acquirer's BDK, a flipped bit, a short block): null.
    expect(await hsm.translateDukptPinToZpk(bdkIdOf(DEFAULT_ACQUIRER), ksn, block, pan, zpk)).toBeNull();
    expect(await hsm.translateDukptPinToZpk(bdkIdOf(B), ksn, Uint8Array.from(block, (x, i) => (i === 3 ? x ^ 1 : x)), pan, zpk)).toBeNull();
    expect(await hsm.translateDukptPinToZpk(bdkIdOf(B), ksn, block.subarray(0, 8), pan, zpk)).toBeNull();
    await expect(hsm.translateDukptPinToZpk(bdkIdOf(B), ksn, block, '62284800', zpk)).rejects.toThrow(/PAN must be 12..19 digits/);
    await expect(hsm.translateDukptPinToZpk(bdkIdOf(B), ksn, block, pan, 'zpk-none')).rejects.toThrow(/no zone PIN key zpk-none/);
  }, 180_000);

  test('key-injection keys per acquirer: bank-b\'s device pinned bank-b\'s key-agreement key; the default acquirer\'s keeps the service key', async () => {
    const hsm = be.service.hsm;
    expect([keyAgreementKeyOf(DEFAULT_ACQUIRER), keyAgreementKeyOf(B)]).toEqual([null, 'acq.bank-b.key-agreement']);
    const keyB = await hsm.signingKey('acq.bank-b.key-agreement');
    const keyDefault = hsm.publicKey('key-agreement');
    expect(keyB.length).toBe(65);
    expect(Buffer.from(keyB).equals(Buffer.from(keyDefault))).toBe(false);
    expect(Buffer.from(await hsm.signingKey('acq.bank-b.key-agreement')).equals(Buffer.from(keyB))).toBe(true); // stored, not made again
    expect((await tableRows(be, "SELECT id FROM secrets WHERE id = 'signing-key/acq.bank-b.key-agreement'")).length).toBe(1);

    await phoneB.link.attestNow();
    const xB = (await phoneB.link.call('key-exchange', { keyExchange: {} })).keyExchange!;
    expect(verifyP256(keyB, xB.offer!, xB.offerSignature!)).toBe(true);
    expect(verifyP256(keyDefault, xB.offer!, xB.offerSignature!)).toBe(false);
    // bank-b's TEE refuses the same offer signed with the default acquirer's key: it pinned bank-b's.
    const forged = await phoneB.link.attest.agreeKek(xB.offer!, hsm.sign('key-agreement', xB.offer!)).then(() => null, (e: unknown) => e);
    expect(forged).toBeInstanceOf(Error);
    await phoneB.link.attest.agreeKek(xB.offer!, xB.offerSignature!); // its own acquirer's signature is accepted

    // The default acquirer's device (as every device enrolled before tenants) is offered keys signed by the service key.
    await phoneA.link.attestNow();
    const xA = (await phoneA.link.call('key-exchange', { keyExchange: {} })).keyExchange!;
    expect(verifyP256(keyDefault, xA.offer!, xA.offerSignature!)).toBe(true);
    await phoneA.link.attest.agreeKek(xA.offer!, xA.offerSignature!);
  }, 120_000);

  test('per-acquirer limits are checked when configured', () => {
    expect(parseLimits(B_LIMITS)).toEqual([{ currency: '156', transactionLimit: 500_00, cvmRequiredLimit: 400_00 }]);
    expect(() => parseLimits('[{"currency":"156","transactionLimit":100,"cvmRequiredLimit":200}]')).toThrow(/above its transactionLimit/);
    expect(() => parseLimits('[{"currency":"CNY","transactionLimit":100,"cvmRequiredLimit":50}]')).toThrow(/ISO 4217 numeric/);
    expect(() => parseLimits('[]')).toThrow(/non-empty/);
  });

  test('every device operation sent by bank-b\'s phone in the name of A\'s device is refused; B\'s own requests never reach A\'s journal', async () => {
    const ops = Object.entries(DEVICE_OPS);
    expect(ops.length).toBeGreaterThanOrEqual(12);
    const own = phoneB.link.state.deviceId;
    for (const [path, op] of ops) {
      phoneB.link.state.deviceId = idA; // signed with B's key, naming A's device
      try {
        const err = await phoneB.link.call(path, { [BODY_FIELD[op]]: {} }).then(() => null, (e: unknown) => e);
        expect(err, path).toBeInstanceOf(BackendError);
        expect((err as BackendError).http, path).toBe(401);
      } finally {
        phoneB.link.state.deviceId = own;
      }
    }
    // A's client transaction id asked for by B's device: B's own (empty) record, not A's payment.
    expect((await phoneB.link.transactionStatus(paidA.ctid)).found).toBe(false);
    await phoneB.link.reverse(paidA.ctid); // a tombstone in B's journal
    expect((await be.service.repo.getPayment(idA, paidA.ctid))?.reversedMs).toBe(0);
    expect((await phoneB.link.qrStatus(paidA.ctid)).found).toBe(false);
    expect((await phoneA.link.transactionStatus(paidA.ctid)).reversed).toBe(false);
  });

  test('every back-office route with bank-b\'s token against the default acquirer\'s device and acquirer is refused; nothing changes', async () => {
    const policyBefore = be.service.currentPolicy(DEFAULT_ACQUIRER).version;
    const devicesBefore = (await be.service.repo.listDevices(undefined, DEFAULT_ACQUIRER)).length;
    const routes = adminRoutes(be.service);
    expect(routes.length).toBeGreaterThanOrEqual(12);
    // Bodies that would succeed for the right tenant (so a refusal is the tenant check, not a bad body).
    const bodies: Record<string, Uint8Array> = {
      'POST terminals': a.CreateTerminalRequest.encode({ merchantId: 'M-A', terminalId: tid() }).finish(),
      'POST devices/:deviceId/state': a.SetDeviceStateRequest.encode({ state: a.DeviceState.DEVICE_STATE_DISABLED, reason: 'wrong tenant' }).finish(),
      'PUT policy': a.Policy.encode({ ...be.service.currentPolicy(DEFAULT_ACQUIRER), nonceTtlMs: 1 } as any).finish(),
      'POST wallets/login': trustWalletLogin(),
      'POST clients': a.AllowClientRequest.encode({ name: 'com.wrong-tenant.pos', version: '1', sha256: Buffer.alloc(32, 1) }).finish(),
      'POST clients/revoke': a.RevokeClientRequest.encode({ name: 'trusttap-client', version: '0.0.0', reason: 'wrong tenant' }).finish(),
    };
    const clientsBefore = await be.service.clientReleases(DEFAULT_ACQUIRER);
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      const path = `/v1/admin/${r.path.replace(':deviceId', idA)}?acquirer=${DEFAULT_ACQUIRER}`;
      const got = await admin.req(r.method, path, bodies[key], tokenB);
      expect([403, 404], `${key}: ${got.status} ${got.error}`).toContain(got.status);
      expect((await admin.req(r.method, path, bodies[key], 'not-a-token-of-anyone-0123456789')).status, key).toBe(401);
    }
    // The scheme's admin token reads them; bank-b's token reads its own device.
    expect((await admin.req('GET', `/v1/admin/devices/${idA}`)).status).toBe(200);
    expect((await admin.req('GET', `/v1/admin/devices/${idB}`, undefined, tokenB)).status).toBe(200);
    expect(a.Policy.decode((await admin.req('GET', '/v1/admin/policy', undefined, tokenB)).body).version).toBe(be.service.currentPolicy(B).version);
    // Nothing of the default acquirer's changed.
    expect((await be.service.repo.getDevice(idA))?.state).toBe('active');
    expect(be.service.currentPolicy(DEFAULT_ACQUIRER).version).toBe(policyBefore);
    expect((await be.service.repo.listDevices(undefined, DEFAULT_ACQUIRER)).length).toBe(devicesBefore);
    expect(await be.service.clientReleases(DEFAULT_ACQUIRER)).toEqual(clientsBefore);
    expect((await be.service.clientReleases(B)).some((r) => r.name === 'com.wrong-tenant.pos')).toBe(false);
  });

  test('every console route as bank-b\'s operator against the default acquirer\'s rows is refused or answers only bank-b\'s', async () => {
    const now = Date.now();
    await addOperator(be.service.repo, 'bob-b', 'operator', 'bob-b-operator-pass-1', now, B);
    const bob = new ConsoleClient(be.url);
    expect((await bob.signIn({ username: 'bob-b', password: 'bob-b-operator-pass-1' })).json.acquirerId).toBe(B);
    const root = new ConsoleClient(be.url);
    expect((await root.signIn({ adminToken: be.adminToken })).status).toBe(200);
    const policyBefore = be.service.currentPolicy(DEFAULT_ACQUIRER).version;
    const routes = consoleRoutes(new ConsoleViews(be.service));
    expect(routes.length).toBeGreaterThanOrEqual(15);
    const cur = be.service.currentPolicy(DEFAULT_ACQUIRER);
    const body = {
      reason: 'wrong tenant', acquirerId: DEFAULT_ACQUIRER, merchantId: 'M-A', terminalId: tid(),
      tunables: { runtimeVersions: [...cur.runtimeVersions], bootStates: ['BOOT_STATE_VERIFIED'], requiredTas: [], nonceTtlMs: 1, tokenTtlMs: 120_000, heartbeatTimeoutMs: 900_000, locationJumpKm: 0 },
    };
    const victim = [idA, 'M-A', paidA.reference];
    for (const r of routes) {
      const path = r.path.replace(':deviceId', idA).replace(':ctid', encodeURIComponent(paidA.ctid));
      const query = new URLSearchParams({ acquirer: DEFAULT_ACQUIRER, device: idA, ctid: paidA.ctid, reference: paidA.reference });
      const got = await bob.call(r.method, `${path}?${query}`, r.method === 'POST' ? body : undefined);
      const text = JSON.stringify(got.json);
      if (got.status === 200) {
        for (const v of victim) expect(text, `${r.method} ${r.path} leaked ${v}`).not.toContain(v);
      } else {
        expect([403, 404], `${r.method} ${r.path}: ${got.status} ${text}`).toContain(got.status);
      }
      if (r.method === 'GET') {
        // The scheme's session sees the default acquirer's rows through the same route.
        const seen = await root.call('GET', `${path}?${new URLSearchParams({ acquirer: DEFAULT_ACQUIRER })}`);
        expect(seen.status, `${r.path} as the scheme`).toBe(200);
      }
    }
    // bank-b's operator sees bank-b's rows, and only those.
    const devices = (await bob.call('GET', 'devices')).json as { deviceId: string; acquirerId: string }[];
    expect(devices.map((d) => d.acquirerId)).toEqual(devices.map(() => B));
    expect(devices.map((d) => d.deviceId)).toContain(idB);
    const stats = (await bob.call('GET', 'stats?minutes=60')).json as { payments: { n: number }[] };
    const journaledB = (await be.service.repo.searchPayments({ scope: B })).length;
    expect(stats.payments.reduce((n, x) => n + x.n, 0)).toBe(journaledB);
    expect((await bob.call('GET', 'acquirers')).json.map((x: { acquirerId: string }) => x.acquirerId)).toEqual([B]);
    // Nothing of the default acquirer's changed.
    expect((await be.service.repo.getDevice(idA))?.state).toBe('active');
    expect((await be.service.repo.getPayment(idA, paidA.ctid))?.reversedMs).toBe(0);
    expect(be.service.currentPolicy(DEFAULT_ACQUIRER).version).toBe(policyBefore);
  });
});

test('an acquirer added while the back end runs is served at once: its policy versions go on from its copy of the default one', async () => {
  await putAcquirer(be.service.repo, { acquirerId: 'bank-c', name: 'Bank C' }, Date.now()); // as `trusttap acquirer add` on the live database
  const got = a.Policy.decode((await admin.req('GET', '/v1/admin/policy?acquirer=bank-c')).body);
  expect(got.version).toBe(1);
  const put = await admin.req('PUT', '/v1/admin/policy?acquirer=bank-c', a.Policy.encode({ ...got, nonceTtlMs: 30_000 } as any).finish());
  expect([put.status, a.Policy.decode(put.body).version]).toEqual([200, 2]);
  expect((await be.service.repo.listPolicies('bank-c')).map((p) => p.version)).toEqual([1, 2]);
  const t = await admin.req('POST', '/v1/admin/terminals?acquirer=bank-c', a.CreateTerminalRequest.encode({ merchantId: 'M-C', terminalId: tid() }).finish());
  expect(t.status).toBe(201);
  expect(await be.service.hsm.hasBdk(bdkIdOf('bank-c'))).toBe(true);
});

test('the routes outside the three tables hold no acquirer\'s rows: keys and health answer anyone; metrics and the wallet routes refuse an acquirer\'s token', async () => {
  const get = (path: string, token?: string) => fetch(`${be.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  for (const path of ['/v1/keys', '/healthz', '/readyz']) {
    const r = await get(path, tokenB);
    expect(r.status, path).toBe(200);
    const text = Buffer.from(await r.arrayBuffer()).toString('latin1');
    for (const v of [idA, idB, 'M-A', 'M-B']) expect(text, path).not.toContain(v);
  }
  expect((await get('/metrics', tokenB)).status).toBe(401); // the scheme's counts: the metrics or admin token only
  expect((await get('/v1/wallet/balance', tokenB)).status).toBe(401); // the simulated issuer's wallets, not an acquirer's
  for (const path of ['/v1/wallet/pay', '/v1/wallet/codes']) {
    expect((await fetch(`${be.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${tokenB}` }, body: new Uint8Array(0) })).status, path).toBe(401);
  }
});

function trustWalletLogin(): Uint8Array {
  return pay.WalletLoginRequest.encode({ accountId: 'wallet-cny' }).finish();
}

/** A browser-like console client: keeps the cookie, sends the CSRF token it was given. */
class ConsoleClient {
  cookie = '';
  csrf = '';
  constructor(readonly url: string) {}
  async call(method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (method !== 'GET') { headers['content-type'] = 'application/json'; headers['x-csrf-token'] = this.csrf; }
    const r = await fetch(`${this.url}/console/api/${path}`, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(body ?? {}) });
    const sc = r.headers.get('set-cookie');
    if (sc) this.cookie = sc.split(';')[0]!;
    return { status: r.status, json: await r.json() as any };
  }
  async signIn(body: unknown) {
    const r = await this.call('POST', 'session', body);
    if (r.status === 200) this.csrf = r.json.csrfToken;
    return r;
  }
}
