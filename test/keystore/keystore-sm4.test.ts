// SM4 keys in the keystore (issue 4, "SM4 when configured"): generation inside the TEE with the
// UnionPay-style check value, SM4 data keys, the UnionPay working-key download (an SM4 PIN key
// SM4-ECB encrypted under an SM4 terminal master key, checked against its check value), the
// pinpad-only static PIN block encryption, and every refusal around them — each checked against
// node:crypto's sm4-ecb / sm4-cbc.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCipheriv } from 'node:crypto';
import { ks } from '../../ree/tee-client/index.ts';
import { Status } from '../../proto/status.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { expectTeeError } from '../../conformance/index.ts';
import { paylib, ascii, text } from '../as/paylib-host.ts';
import { startBench, tr31Header, UUID, type Bench } from './fixture.ts';

const A = ks.KeyAlgorithm, U = ks.KeyUsage, M = ks.ModeOfUse, E = ks.Exportability;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const unhex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const attrs = (algorithm: number, usage: number, modeOfUse: number, exportability: number = E.EXPORTABILITY_N_NON_EXPORTABLE) =>
  ({ algorithm, usage, modeOfUse, exportability });
const sm4 = (k: Uint8Array, d: Uint8Array) => new Uint8Array(createCipheriv('sm4-ecb', k, null).setAutoPadding(false).update(d));
const sm4Kcv = (k: Uint8Array) => sm4(k, new Uint8Array(16)).subarray(0, 4);
const P0 = (mode: number = M.MODE_OF_USE_E_ENCRYPT) => attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_P0_PIN_ENCRYPTION, mode);

describe('keystore: SM4 keys', () => {
  let b: Bench;
  let tmk: Uint8Array; // SM4 K0 (terminal master key), learned through the recorded random source
  const pik = unhex('F351D490994603795C6EBEE8FAEBB481');

  const encryptPin = (who: 'pinpad' | 'txsign' | 'stranger', keyId: string, clear: Uint8Array, format: number = ks.PinBlockFormat.PIN_BLOCK_FORMAT_UNIONPAY_SM4) =>
    b.asTa(who, ks.Command.COMMAND_ENCRYPT_PIN_BLOCK, ks.EncryptPinBlockRequest.encode({ keyId, format, clearPinBlock: clear }).finish())
      .then((r) => ks.EncryptPinBlockResponse.decode(r).encryptedPinBlock);

  beforeAll(async () => {
    b = await startBench(23);
    tmk = await b.generateKnown('tmk', attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_K0_KEY_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
  });
  afterAll(async () => { await b.close(); });

  test('generated SM4 keys: 16 bytes drawn in the TEE, no DES parity, check value = leftmost 4 bytes of SM4(K, 0^16)', async () => {
    expect(tmk.length).toBe(16);
    expect(hex((await b.keystore.getKeyInfo('tmk')).kcv)).toBe(hex(sm4Kcv(tmk)));
    const d0 = await b.generateKnown('d0-sm4', attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
    const info = await b.keystore.getKeyInfo('d0-sm4');
    expect(info.attributes?.algorithm).toBe(A.KEY_ALGORITHM_SM4_128);
    expect(hex(info.kcv)).toBe(hex(sm4Kcv(d0)));
    // SM4 data keys: ECB and CBC agree with node:crypto.
    const pt = Uint8Array.from({ length: 48 }, (_, i) => i * 7);
    const iv = unhex('000102030405060708090A0B0C0D0E0F');
    expect(hex(await b.keystore.encryptData('d0-sm4', pt))).toBe(hex(sm4(d0, pt)));
    const ct = await b.keystore.encryptData('d0-sm4', pt, iv);
    expect(hex(ct)).toBe(hex(new Uint8Array(createCipheriv('sm4-cbc', d0, iv).setAutoPadding(false).update(pt))));
    expect(hex(await b.keystore.decryptData('d0-sm4', ct, iv))).toBe(hex(pt));
    await expectTeeError(b.keystore.encryptData('d0-sm4', new Uint8Array(8)), Status.ERROR_BAD_PARAMETERS); // 16-byte blocks
  });

  test('SM4 is held for P0 (mode E/B), K0 and D0 only', async () => {
    const refused: [number, number][] = [
      [U.KEY_USAGE_B1_DUKPT_INITIAL_KEY, M.MODE_OF_USE_X_DERIVE],
      [U.KEY_USAGE_K1_TR31_KBPK, M.MODE_OF_USE_B_ENCRYPT_DECRYPT],
      [U.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC, M.MODE_OF_USE_C_MAC_GENERATE_VERIFY],
      [U.KEY_USAGE_M1_ISO9797_1_MAC_ALG1, M.MODE_OF_USE_C_MAC_GENERATE_VERIFY],
      [U.KEY_USAGE_P0_PIN_ENCRYPTION, M.MODE_OF_USE_D_DECRYPT],
    ];
    for (const [usage, mode] of refused) {
      await expectTeeError(b.keystore.generateKey('sm4-bad', attrs(A.KEY_ALGORITHM_SM4_128, usage, mode)), Status.ERROR_BAD_PARAMETERS);
    }
    await b.keystore.generateKey('p0-sm4-b', P0(M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
    await b.keystore.generateKey('k0-sm4-e', attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_K0_KEY_ENCRYPTION, M.MODE_OF_USE_E_ENCRYPT));
    await expectTeeError(b.keystore.generateKey('alg7', attrs(7, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT)), Status.ERROR_BAD_PARAMETERS);
    expect((await b.keystore.listKeys()).map((k) => k.keyId)).not.toContain('sm4-bad');
  });

  test('UnionPay key download: a PIN key under the SM4 TMK with its check value (4 or 8 bytes)', async () => {
    const wrapped = sm4(tmk, pik);
    const info = await b.keystore.importWrappedKey('pik', 'tmk', wrapped, sm4Kcv(pik), P0());
    expect(info.wrappedBy).toBe('tmk');
    expect(hex(info.kcv)).toBe(hex(sm4Kcv(pik)));
    expect(info.attributes).toMatchObject({ algorithm: A.KEY_ALGORITHM_SM4_128, usage: U.KEY_USAGE_P0_PIN_ENCRYPTION, modeOfUse: M.MODE_OF_USE_E_ENCRYPT });
    // The 8-byte check value of the informative source (docs/keystore.md) is accepted too.
    const i8 = await b.keystore.importWrappedKey('pik8', 'tmk', wrapped, sm4(pik, new Uint8Array(16)).subarray(0, 8), P0(M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
    expect(hex(i8.kcv)).toBe(hex(info.kcv));
    // And it is the key it claims to be: the pinpad's PIN block comes out under it.
    const clear = unhex('06123654FFFFFFFFFFFF99FEFF88D977');
    expect(hex(await encryptPin('pinpad', 'pik', clear))).toBe(hex(sm4(pik, clear)));
  });

  test('download refusals: bad check value, wrong KEK, non-SM4 or non-K0 KEK, attributes other than SM4 P0 — nothing stored', async () => {
    const wrapped = sm4(tmk, pik);
    const kcv = sm4Kcv(pik);
    const bad = kcv.slice();
    bad[3] ^= 1;
    let e = await expectTeeError(b.keystore.importWrappedKey('w1', 'tmk', wrapped, bad, P0()), Status.ERROR_MAC_INVALID);
    expect(e.detail).toMatch(/check value/);
    const flipped = wrapped.slice();
    flipped[0] ^= 0x80;
    await expectTeeError(b.keystore.importWrappedKey('w2', 'tmk', flipped, kcv, P0()), Status.ERROR_MAC_INVALID);
    await b.keystore.generateKey('tmk2', attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_K0_KEY_ENCRYPTION, M.MODE_OF_USE_D_DECRYPT));
    await expectTeeError(b.keystore.importWrappedKey('w3', 'tmk2', wrapped, kcv, P0()), Status.ERROR_MAC_INVALID); // another TMK
    // An SM4 K0 with mode E may not unwrap; an AES K0 is not an SM4 KEK; a P0 key is no KEK.
    await expectTeeError(b.keystore.importWrappedKey('w4', 'k0-sm4-e', wrapped, kcv, P0()), Status.ERROR_ACCESS_DENIED);
    await b.keystore.generateKey('kek-aes', attrs(A.KEY_ALGORITHM_AES_256, U.KEY_USAGE_K0_KEY_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
    e = await expectTeeError(b.keystore.importWrappedKey('w5', 'kek-aes', wrapped, kcv, P0()), Status.ERROR_ACCESS_DENIED);
    expect(e.detail).toMatch(/SM4 K0/);
    await expectTeeError(b.keystore.importWrappedKey('w6', 'pik', wrapped, kcv, P0()), Status.ERROR_ACCESS_DENIED);
    await expectTeeError(b.keystore.importWrappedKey('w7', 'no-such-tmk', wrapped, kcv, P0()), Status.ERROR_ITEM_NOT_FOUND);
    // The wrapped bytes carry no attributes: the ciphertext of a PIN key must not come back as a
    // data key that decrypts, nor as an AES key, a KEK or a P0 key with mode D.
    for (const a of [
      attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_D_DECRYPT),
      attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT),
      attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_K0_KEY_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT),
      attrs(A.KEY_ALGORITHM_AES_128, U.KEY_USAGE_P0_PIN_ENCRYPTION, M.MODE_OF_USE_E_ENCRYPT),
      P0(M.MODE_OF_USE_D_DECRYPT),
    ]) await expectTeeError(b.keystore.importWrappedKey('w8', 'tmk', wrapped, kcv, a), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(b.keystore.importWrappedKey('w9', 'tmk', wrapped.subarray(0, 8), kcv, P0()), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(b.keystore.importWrappedKey('w10', 'tmk', wrapped, kcv.subarray(0, 3), P0()), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(b.keystore.importWrappedKey('pik', 'tmk', wrapped, kcv, P0()), Status.ERROR_ACCESS_CONFLICT);
    const ids = (await b.keystore.listKeys()).map((k) => k.keyId);
    for (let i = 1; i <= 10; i++) expect(ids).not.toContain(`w${i}`);
  });

  test('TR-31 has no SM4: no SM4 key block in or out, no SM4 KEK for key blocks', async () => {
    const p = await paylib();
    const kb = text(p.call('tr31Wrap', [0], [ascii(tr31Header('D0000D0AB00N0000')), new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)])[0]!);
    let e = await expectTeeError(b.keystore.importKeyBlock('tr-sm4', 'tmk', kb), Status.ERROR_NOT_SUPPORTED);
    expect(e.detail).toMatch(/no SM4 key block/);
    await b.keystore.generateKey('d0-sm4-exp', attrs(A.KEY_ALGORITHM_SM4_128, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT, E.EXPORTABILITY_E_TRUSTED));
    e = await expectTeeError(b.keystore.exportKeyBlock('d0-sm4-exp', 'kek-aes'), Status.ERROR_NOT_SUPPORTED);
    expect(e.detail).toMatch(/no SM4 algorithm code/);
    await b.keystore.generateKey('d0-aes-exp', attrs(A.KEY_ALGORITHM_AES_128, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT, E.EXPORTABILITY_E_TRUSTED));
    await expectTeeError(b.keystore.exportKeyBlock('d0-aes-exp', 'tmk'), Status.ERROR_NOT_SUPPORTED);
  });

  test('static PIN block encryption: pinpad only, SM4 P0 keys only, UnionPay SM4 format only', async () => {
    const clear = unhex('041234FFFFFFFFFFFFFF9876543210FF');
    const req = ks.EncryptPinBlockRequest.encode({ keyId: 'pik', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_UNIONPAY_SM4, clearPinBlock: clear }).finish();
    await expectTeeError(b.keystore.session.invoke(ks.Command.COMMAND_ENCRYPT_PIN_BLOCK, req), Status.ERROR_ACCESS_DENIED); // the REE
    await expectTeeError(encryptPin('stranger', 'pik', clear), Status.ERROR_ACCESS_DENIED);
    await expectTeeError(encryptPin('txsign', 'pik', clear), Status.ERROR_ACCESS_DENIED);
    // Non-P0 keys (usage rule), TDES/AES P0 keys (algorithm), other formats and lengths. (The
    // probe TA standing in for the pinpad passes on the status, not the keystore's message.)
    for (const id of ['tmk', 'd0-sm4']) await expectTeeError(encryptPin('pinpad', id, clear), Status.ERROR_ACCESS_DENIED);
    await b.keystore.generateKey('p0-aes', attrs(A.KEY_ALGORITHM_AES_128, U.KEY_USAGE_P0_PIN_ENCRYPTION, M.MODE_OF_USE_E_ENCRYPT));
    await b.keystore.generateKey('p0-tdes', attrs(A.KEY_ALGORITHM_TDES_2KEY, U.KEY_USAGE_P0_PIN_ENCRYPTION, M.MODE_OF_USE_E_ENCRYPT));
    for (const id of ['p0-aes', 'p0-tdes']) await expectTeeError(encryptPin('pinpad', id, clear), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(encryptPin('pinpad', 'pik', clear, ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(encryptPin('pinpad', 'pik', clear.subarray(0, 8)), Status.ERROR_BAD_PARAMETERS);
    // A static key is no DUKPT key set, and a DUKPT command does not take it.
    await expectTeeError(b.asTa('pinpad', ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK,
      ks.DukptEncryptPinBlockRequest.encode({ keyId: 'pik', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_0, clearPinBlock: new Uint8Array(8) }).finish()), Status.ERROR_ACCESS_DENIED);
    // The REE cannot use a PIN key as a data key.
    await expectTeeError(b.keystore.encryptData('pik', clear), Status.ERROR_ACCESS_DENIED);
    expect(hex(await encryptPin('pinpad', 'p0-sm4-b', clear)).length).toBe(32);
  });

  test('no response, error message or sealed file holds an SM4 key the test knows', async () => {
    const secrets = [tmk, pik].map(hex);
    for (const info of await b.keystore.listKeys()) {
      const s = hex(trusttap.keystore.v1.KeyInfo.encode(info).finish());
      for (const k of secrets) expect(s.includes(k.slice(0, 16))).toBe(false);
    }
    const dir = join(b.dataDir, 'storage', UUID.keystore.replace(/-/g, ''), 'objects');
    for (const f of readdirSync(dir)) {
      const s = readFileSync(join(dir, f)).toString('hex').toUpperCase();
      for (const k of secrets) expect(s.includes(k.slice(0, 16))).toBe(false);
    }
  });
});
