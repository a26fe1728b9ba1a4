// txsign TA: a unique, monotonic, sealed counter per record; the device key's signature (via the
// attest TA) and the DUKPT MAC (via the keystore) over the exact record bytes, both checked here
// independently (node:crypto, ref.ts); rollback and malformed records refused.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey, createDecipheriv, verify } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status } from '../../proto/status.ts';
import { expectTeeError } from '../../conformance/index.ts';
import { dukptAesDerivationKey, dukptAesWorkingKey, aesCmac } from '../paylib/ref.ts';
import { ks } from '../../ree/tee-client/index.ts';
import { type Bench } from '../keystore/fixture.ts';
import { tx, TXSIGN_UUID, unhex, hex, ik, txsignBench, record } from './bench.ts';

function p256(pub: Uint8Array) {
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(pub.subarray(1, 33)).toString('base64url'), y: Buffer.from(pub.subarray(33)).toString('base64url') }, format: 'jwk' });
}

describe('txsign TA', () => {
  let b: Bench;
  const sign = async (rec: object, keyId = 'dukpt') => tx.SignTransactionResponse.decode(
    await (await b.ctx.openSession('txsign')).invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({ record: rec, dukptKeyId: keyId }).finish()));

  beforeAll(async () => {
    b = await txsignBench(11);
  });
  afterAll(async () => { await b.close(); });

  test('signs and MACs the exact record bytes; counters are unique and increasing', async () => {
    let last = 0n;
    for (let i = 0; i < 5; i++) {
      const r = await sign(record({ clientTransactionId: `ctx-${i}` }));
      const rec = tx.TransactionRecord.decode(r.record);
      const counter = BigInt(rec.counter.toString());
      expect(counter).toBe(last + 1n);
      last = counter;
      const msg = Buffer.concat([Buffer.from('trusttap/ta-sign/v1\0'), unhex(TXSIGN_UUID.replace(/-/g, '')), r.record]);
      expect(verify('sha256', msg, { key: p256(r.devicePublicKey), dsaEncoding: 'ieee-p1363' }, r.signature)).toBe(true);
      const dk = dukptAesDerivationKey(ik, r.macKsn);
      expect(hex(r.mac)).toBe(hex(aesCmac(dukptAesWorkingKey(dk, r.macKsn, 0x2000, 2), r.record)));
      expect(new DataView(r.macKsn.buffer, r.macKsn.byteOffset).getUint32(8)).toBe(i + 1); // a fresh KSN per record without PIN
      // A changed byte breaks the signature.
      const bad = Buffer.from(msg);
      bad[bad.length - 1] ^= 1;
      expect(verify('sha256', bad, { key: p256(r.devicePublicKey), dsaEncoding: 'ieee-p1363' }, r.signature)).toBe(false);
    }
  });

  test('card data enters the record only encrypted under the DUKPT data key of its KSN', async () => {
    const tlv = unhex('5A0862345678901212345F340101570F6234567890121234D2812201123456');
    const s = await b.ctx.openSession('txsign');
    const raw = await s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({ record: record({ clientTransactionId: 'card-data' }), dukptKeyId: 'dukpt', sensitiveCardData: tlv }).finish());
    expect(Buffer.from(raw).includes(Buffer.from(tlv.subarray(2, 10)))).toBe(false); // no clear PAN anywhere in the answer
    const r = tx.SignTransactionResponse.decode(raw);
    const rec = tx.TransactionRecord.decode(r.record);
    const dk = dukptAesDerivationKey(ik, r.macKsn);
    const dataKey = dukptAesWorkingKey(dk, r.macKsn, 0x3000, 2);
    const d = createDecipheriv('aes-128-cbc', dataKey, Buffer.alloc(16)).setAutoPadding(false);
    const clear = Buffer.concat([d.update(rec.encryptedCardData), d.final()]);
    expect(hex(clear.subarray(0, tlv.length))).toBe(hex(tlv));
    expect(clear[tlv.length]).toBe(0x80); // ISO 9797-1 padding method 2
    expect(clear.length % 16).toBe(0);
    await expectTeeError(s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, tx.SignTransactionRequest.encode({ record: record({ encryptedCardData: Uint8Array.of(1) }), dukptKeyId: 'dukpt' }).finish()), Status.ERROR_BAD_PARAMETERS);
  });

  test('with a PIN, the MAC uses the PIN block\'s KSN; another KSN is refused', async () => {
    const pin = ks.DukptEncryptPinBlockResponse.decode(await b.asTa('pinpad', ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK,
      ks.DukptEncryptPinBlockRequest.encode({ keyId: 'dukpt', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4, pinField: new Uint8Array(16).fill(0x44), panField: new Uint8Array(16) }).finish()));
    const r = await sign(record({ pinKsn: pin.ksn, clientTransactionId: 'with-pin' }));
    expect(hex(r.macKsn)).toBe(hex(pin.ksn));
    const stale = Uint8Array.from(pin.ksn);
    stale[11] ^= 0x01;
    await expectTeeError(sign(record({ pinKsn: stale, clientTransactionId: 'stale-pin' })), Status.ERROR_BAD_PARAMETERS);
  });

  test('refuses records that would leak a PAN or are malformed, with the reason', async () => {
    const e = await expectTeeError(sign(record({ maskedPan: '6234567890121234' })), Status.ERROR_BAD_PARAMETERS);
    expect(e.detail).toMatch(/masked_pan/);
    expect(e.detail).not.toMatch(/6234567890/);
    await expectTeeError(sign(record({ currency: 'CNY' })), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(sign(record({ amountMinor: 0 })), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(sign(record({ counter: 99 })), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(sign(record(), 'no-such-set'), Status.ERROR_ITEM_NOT_FOUND);
    const s = await b.ctx.openSession('txsign');
    await expectTeeError(s.invoke(tx.Command.COMMAND_SIGN_TRANSACTION, Uint8Array.of(0x0a, 0x7f)), Status.ERROR_BAD_FORMAT);
  });

  test('the counter survives a restart; a rolled-back counter is refused', async () => {
    const state = async () => BigInt(tx.GetStateResponse.decode(await (await b.ctx.openSession('txsign')).invoke(tx.Command.COMMAND_GET_STATE)).counter.toString());
    const before = await state();
    const file = join(b.dataDir, 'storage', TXSIGN_UUID.replace(/-/g, ''), 'objects', `${Buffer.from('state').toString('hex')}.blob`);
    const old = readFileSync(file);
    await sign(record({ clientTransactionId: 'r1' }));
    await b.restart();
    expect(await state()).toBe(before + 1n);
    const r = tx.TransactionRecord.decode((await sign(record({ clientTransactionId: 'r2' }))).record);
    expect(BigInt(r.counter.toString())).toBe(before + 2n);
    writeFileSync(file, old);
    await expectTeeError(sign(record({ clientTransactionId: 'r3' })), Status.ERROR_SECURITY);
  });

  test('the REE cannot have the attest TA sign a record for txsign', async () => {
    const req = trusttap.attest.v1.SignRequest.encode({ message: Uint8Array.of(1, 2, 3) }).finish();
    const s = await b.ctx.openSession('attest');
    await expectTeeError(s.invoke(trusttap.attest.v1.Command.COMMAND_SIGN, req), Status.ERROR_ACCESS_DENIED);
  });
});
