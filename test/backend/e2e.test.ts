// Issue 5's whole path through the real HTTP service and the signed build: a device enrols,
// attests, receives its DUKPT key by remote key injection, signs a transaction (txsign: device
// key via the attest TA, DUKPT MAC via the keystore) that the back end verifies with the enrolled
// key and its HSM, and is then suspended by a rule.
import { test, expect, afterAll } from 'vitest';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { KeystoreClient } from '../../ree/tee-client/index.ts';
import { BackendError } from '../../ree/attestation/backend-link.ts';
import { a, Admin, startTestBackend, enrolledDevice, type Backend } from './harness.ts';
import { DEFAULT_BDK } from '../../backend/service.ts';

const flip = (b: Uint8Array) => { const c = Uint8Array.from(b); c[0] ^= 1; return c; };

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

    // Issue 13 §4: the MAC's check and the card data's decryption in one HSM operation (one DUKPT
    // derivation) answer what the two separate operations answer.
    const s2 = await dev.ctx.openSession('txsign');
    const card = Uint8Array.of(0x5a, 0x08, 0x62, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x5f, 0x5f, 0x34, 0x01, 0x01);
    const withCard = tx.SignTransactionResponse.decode(await s2.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({
      record: {
        type: tx.TransactionType.TRANSACTION_TYPE_PURCHASE, amountMinor: 99 as any, currency: '156', merchantId: enrol.merchantId,
        terminalId: enrol.terminalId, applicationCryptogram: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), maskedPan: '623456******1234',
        timestampMs: Date.now() as any, clientTransactionId: 'ctx-e2e-2',
      },
      dukptKeyId: 'dukpt', sensitiveCardData: card,
    }).finish()));
    await s2.close();
    const data = tx.TransactionRecord.decode(withCard.record).encryptedCardData;
    const hsm = be.service.hsm;
    const bdk = DEFAULT_BDK;
    expect(data.length % 16).toBe(0);
    const both = async (ksn: Uint8Array, record: Uint8Array, mac: Uint8Array, enc: Uint8Array) => {
      const one = await hsm.openDukptRecord(bdk, ksn, record, mac, enc);
      const macValid = await hsm.verifyDukptMac(bdk, ksn, record, mac);
      expect(one.macValid).toBe(macValid);
      expect(one.data).toEqual(macValid ? await hsm.decryptDukptData(bdk, ksn, enc) : null); // nothing decrypted under a bad MAC
      return one;
    };
    expect(await both(withCard.macKsn, withCard.record, withCard.mac, data)).toEqual({ macValid: true, data: card });
    expect(await both(withCard.macKsn, withCard.record, flip(withCard.mac), data)).toEqual({ macValid: false, data: null });
    expect(await both(withCard.macKsn, flip(withCard.record), withCard.mac, data)).toEqual({ macValid: false, data: null });
    // A ciphertext that is not whole blocks does not decrypt; the MAC still verifies.
    expect(await both(withCard.macKsn, withCard.record, withCard.mac, data.subarray(0, data.length - 1))).toEqual({ macValid: true, data: null });
    // Another KSN: another key, the MAC fails; a KSN of the wrong length is refused the same way.
    const ksn2 = Uint8Array.from(withCard.macKsn);
    ksn2[11] ^= 1;
    expect((await both(ksn2, withCard.record, withCard.mac, data)).macValid).toBe(false);
    expect((await both(withCard.macKsn.subarray(0, 11), withCard.record, withCard.mac, data)).macValid).toBe(false);
    // The service's record check hands the decrypted data on.
    expect(await be.service.checkTransactionRecord(link.state.deviceId, withCard.record, withCard.signature, withCard.mac, withCard.macKsn, undefined, data))
      .toEqual({ ok: true, reason: '', cardData: card });
    expect((await be.service.checkTransactionRecord(link.state.deviceId, withCard.record, withCard.signature, flip(withCard.mac), withCard.macKsn, undefined, data)))
      .toEqual({ ok: false, reason: 'the record MAC does not verify' });

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
