// Issue 5's whole path through the real HTTP service and the signed build: a device enrols,
// attests, receives its DUKPT key by remote key injection, signs a transaction (txsign: device
// key via the attest TA, DUKPT MAC via the keystore) that the back end verifies with the enrolled
// key and its HSM, and is then suspended by a rule.
import { test, expect, afterAll } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { KeystoreClient } from '../../ree/tee-client/index.ts';
import { BackendError } from '../../ree/attestation/backend-link.ts';
import { a, Admin, startTestBackend, enrolledDevice, type Backend } from './harness.ts';

const tx = trusttap.txsign.v1;
let be: Backend;
afterAll(async () => { await be?.close(); });

test('enrol → attest → key injection → signed transaction verified by the back end → suspended by a rule', async () => {
  be = await startTestBackend();
  const admin = new Admin(be);
  const { dev, link, enrol } = await enrolledDevice(be, admin);
  try {
    expect((await link.attestNow()).token.verdict).toBe(a.Verdict.VERDICT_ALLOW);
    const { kekKeyId, keys } = await link.injectKeys();
    const ks = await KeystoreClient.open(dev.ctx);
    await ks.importKeyBlock('dukpt', kekKeyId, keys[0].tr31);
    await ks.close();

    const s = await dev.ctx.openSession('txsign');
    const r = tx.SignTransactionResponse.decode(await s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({
      record: {
        type: tx.TransactionType.TRANSACTION_TYPE_PURCHASE, amountMinor: 1234 as any, currency: '156', merchantId: enrol.merchantId,
        terminalId: enrol.terminalId, applicationCryptogram: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), maskedPan: '623456******1234',
        timestampMs: Date.now() as any, clientTransactionId: 'ctx-e2e-1',
      },
      dukptKeyId: 'dukpt',
    }).finish()));
    await s.close();
    expect(await be.service.checkTransactionRecord(link.state.deviceId, r.record, r.signature, r.mac, r.macKsn)).toEqual({ ok: true, reason: '' });
    expect(Buffer.from(r.macKsn.subarray(0, 8)).equals(Buffer.from(keys[0].initialKeyId))).toBe(true);
    const changed = Buffer.from(r.record);
    changed[changed.length - 1] ^= 1;
    expect((await be.service.checkTransactionRecord(link.state.deviceId, changed, r.signature, r.mac, r.macKsn)).reason).toMatch(/signature/);
    const badMac = Buffer.from(r.mac);
    badMac[0] ^= 1;
    expect((await be.service.checkTransactionRecord(link.state.deviceId, r.record, r.signature, badMac, r.macKsn)).reason).toMatch(/MAC/);
    expect((await be.service.paymentGate(link.state.deviceId)).allowed).toBe(true);

    dev.health.hookingFramework = true;
    expect((await link.attestNow()).token.verdict).toBe(a.Verdict.VERDICT_SUSPEND);
    expect(await be.service.paymentGate(link.state.deviceId)).toEqual({ allowed: false, reason: 'device suspended: hooking framework detected' });
    const e = await link.heartbeat().catch((x) => x);
    expect(e).toBeInstanceOf(BackendError);
    expect((e as BackendError).http).toBe(403);
  } finally {
    await dev.close();
  }
});
