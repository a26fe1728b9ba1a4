// Issue 3's keystore: TR-31 import/export, usage rules (the whole usage × operation matrix),
// limits, DUKPT key sets used through TA-to-TA sessions by the right TAs only, persistence and
// rollback — each checked against independent computations (node:crypto, @noble, ref.ts).
import type Long from 'long';
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCipheriv } from 'node:crypto';
import { ks } from '../../ree/tee-client/index.ts';
import { Status } from '../../proto/status.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { expectTeeError } from '../../conformance/index.ts';
import { paylib, ascii, text } from '../as/paylib-host.ts';
import {
  aesCmac, retailMac, cbcMacTdes, dukptAesInitialKey, dukptAesDerivationKey, dukptAesWorkingKey,
  dukptTdesIpek, dukptTdesTxnKey, dukptTdesWorkingKey, format4Encipher,
} from '../paylib/ref.ts';
import { startBench, tr31Header, UUID, type Bench } from './fixture.ts';

const A = ks.KeyAlgorithm, U = ks.KeyUsage, M = ks.ModeOfUse, E = ks.Exportability, MAC = ks.MacAlgorithm;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const unhex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const attrs = (algorithm: number, usage: number, modeOfUse: number, exportability: number = E.EXPORTABILITY_N_NON_EXPORTABLE, limits?: object) =>
  ({ algorithm, usage, modeOfUse, exportability, limits });

async function wrap(header: string, kbpk: Uint8Array, key: Uint8Array, masked = 0): Promise<string> {
  const p = await paylib();
  return text(p.call('tr31Wrap', [masked], [ascii(header), kbpk, key])[0]!);
}

describe('keystore: key blocks, usage rules, limits, DUKPT', () => {
  let b: Bench;
  let kek: Uint8Array; // AES-256 K0 mode B, known to the test through the recorded random source
  let kekTdes: Uint8Array;

  beforeAll(async () => {
    b = await startBench(7);
    kek = await b.generateKnown('kek', attrs(A.KEY_ALGORITHM_AES_256, U.KEY_USAGE_K0_KEY_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
    kekTdes = await b.generateKnown('kek-tdes', attrs(A.KEY_ALGORITHM_TDES_3KEY, U.KEY_USAGE_K1_TR31_KBPK, M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
  });
  afterAll(async () => { await b.close(); });

  test('imports a TR-31 D block: attributes from the header, KCV of the carried key, wrapped_by recorded', async () => {
    const key = unhex('00112233445566778899AABBCCDDEEFF');
    const kb = await wrap(tr31Header('D0000D0AB00E0000'), kek, key);
    const info = await b.keystore.importKeyBlock('data1', 'kek', kb);
    expect(info.attributes).toMatchObject({ algorithm: A.KEY_ALGORITHM_AES_128, usage: U.KEY_USAGE_D0_DATA_ENCRYPTION, modeOfUse: M.MODE_OF_USE_B_ENCRYPT_DECRYPT, exportability: E.EXPORTABILITY_E_TRUSTED });
    expect(hex(info.kcv)).toBe(hex(aesCmac(key, new Uint8Array(16)).subarray(0, 5)));
    expect(info.wrappedBy).toBe('kek');
    // And it works as the key it is.
    const ct = await b.keystore.encryptData('data1', new Uint8Array(16));
    expect(hex(ct)).toBe(hex(createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(new Uint8Array(16))));
  });

  test('imports a TR-31 B block under a TDES KBPK', async () => {
    const key = unhex('0123456789ABCDEFFEDCBA9876543210');
    const kb = await wrap(tr31Header('B0000M3TC00N0000'), kekTdes, key, 24);
    const info = await b.keystore.importKeyBlock('mac-b', 'kek-tdes', kb);
    expect(info.attributes?.usage).toBe(U.KEY_USAGE_M3_ISO9797_1_MAC_ALG3);
    const data = new TextEncoder().encode('retail MAC check');
    const mac = await b.keystore.generateMac('mac-b', MAC.MAC_ALGORITHM_ISO9797_1_ALG3_PAD2, data);
    expect(hex(mac)).toBe(hex(retailMac(key.subarray(0, 8), key.subarray(8, 16), data, 2)));
  });

  test('refuses altered blocks, the wrong KEK, a BDK and unknown usages — nothing is stored', async () => {
    const key = unhex('00112233445566778899AABBCCDDEEFF');
    const kb = await wrap(tr31Header('D0000D0AB00E0000'), kek, key);
    const flipped = kb.slice(0, 40) + (kb[40] === 'A' ? 'B' : 'A') + kb.slice(41);
    await expectTeeError(b.keystore.importKeyBlock('x1', 'kek', flipped), Status.ERROR_MAC_INVALID);
    const header = kb.replace('D0AB00E', 'D0AB00N');
    await expectTeeError(b.keystore.importKeyBlock('x2', 'kek', header), Status.ERROR_MAC_INVALID);
    await expectTeeError(b.keystore.importKeyBlock('x3', 'kek-tdes', kb), Status.ERROR_MAC_INVALID); // a 24-byte KBPK is AES-192-sized: the MAC decides
    const bdk = await wrap(tr31Header('D0000B0AX00N0000'), kek, key);
    const e = await expectTeeError(b.keystore.importKeyBlock('x4', 'kek', bdk), Status.ERROR_BAD_PARAMETERS);
    expect(e.detail).toMatch(/BDK never belongs on a terminal/);
    const odd = await wrap(tr31Header('D0000V0AN00E0000'), kek, key);
    await expectTeeError(b.keystore.importKeyBlock('x5', 'kek', odd), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(b.keystore.importKeyBlock('x6', 'no-such-kek', kb), Status.ERROR_ITEM_NOT_FOUND);
    const ids = (await b.keystore.listKeys()).map((k) => k.keyId);
    for (const id of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6']) expect(ids).not.toContain(id);
  });

  test('a KEK weaker than the key it carries is refused', async () => {
    const weak = await b.generateKnown('kek-weak', attrs(A.KEY_ALGORITHM_AES_128, U.KEY_USAGE_K0_KEY_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
    const kb = await wrap(tr31Header('D0000D0AB00E0000'), weak, new Uint8Array(32).fill(3));
    await expectTeeError(b.keystore.importKeyBlock('strong', 'kek-weak', kb), Status.ERROR_ACCESS_DENIED);
  });

  test('exports an exportable key as a D block the receiver can unwrap; non-exportable keys never leave', async () => {
    const key = await b.generateKnown('exp1', attrs(A.KEY_ALGORITHM_AES_128, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_E_ENCRYPT, E.EXPORTABILITY_E_TRUSTED));
    const kb = await b.keystore.exportKeyBlock('exp1', 'kek');
    expect(kb.startsWith('D')).toBe(true);
    expect(kb).not.toContain(hex(key));
    const p = await paylib();
    const [clear, hdr] = p.call('tr31Unwrap', [], [ascii(kb), kek]);
    expect(same(clear!, key)).toBe(true);
    expect(text(hdr!).slice(5, 12)).toBe('D0AE00N'); // usage D0, AES, mode E, version 00, re-export N
    await b.generateKnown('noexp', attrs(A.KEY_ALGORITHM_AES_128, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
    const e = await expectTeeError(b.keystore.exportKeyBlock('noexp', 'kek'), Status.ERROR_ACCESS_DENIED);
    expect(e.detail).toMatch(/not exportable/);
    await expectTeeError(b.keystore.exportKeyBlock('exp1', 'kek', 'A'), Status.ERROR_BAD_PARAMETERS);
  });

  test('MACs and ciphers agree with independent implementations', async () => {
    const m1 = await b.generateKnown('m1', attrs(A.KEY_ALGORITHM_TDES_2KEY, U.KEY_USAGE_M1_ISO9797_1_MAC_ALG1, M.MODE_OF_USE_C_MAC_GENERATE_VERIFY));
    const m6 = await b.generateKnown('m6', attrs(A.KEY_ALGORITHM_AES_256, U.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC, M.MODE_OF_USE_C_MAC_GENERATE_VERIFY));
    const d0 = await b.generateKnown('d0-tdes', attrs(A.KEY_ALGORITHM_TDES_3KEY, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT));
    for (let n = 0; n < 40; n++) {
      const data = Uint8Array.from({ length: n * 3 }, (_, i) => (i * 31 + n) & 0xff);
      expect(hex(await b.keystore.generateMac('m1', MAC.MAC_ALGORITHM_ISO9797_1_ALG1_PAD2, data))).toBe(hex(cbcMacTdes(m1, data, 2)));
      const t = await b.keystore.generateMac('m6', MAC.MAC_ALGORITHM_CMAC, data);
      expect(hex(t)).toBe(hex(aesCmac(m6, data)));
      await b.keystore.verifyMac('m6', MAC.MAC_ALGORITHM_CMAC, data, t.subarray(0, 8));
      const bad = t.slice(0, 8);
      bad[n % 8] ^= 1;
      await expectTeeError(b.keystore.verifyMac('m6', MAC.MAC_ALGORITHM_CMAC, data, bad), Status.ERROR_MAC_INVALID);
    }
    const iv = unhex('0102030405060708');
    const pt = Uint8Array.from({ length: 64 }, (_, i) => i);
    const ct = await b.keystore.encryptData('d0-tdes', pt, iv);
    expect(hex(ct)).toBe(hex(createCipheriv('des-ede3-cbc', d0, iv).setAutoPadding(false).update(pt)));
    expect(hex(await b.keystore.decryptData('d0-tdes', ct, iv))).toBe(hex(pt));
    await expectTeeError(b.keystore.generateMac('m1', MAC.MAC_ALGORITHM_CMAC, pt), Status.ERROR_ACCESS_DENIED);
  });

  describe('the key usage matrix: every forbidden (usage × operation) pair is refused', () => {
    type Key = { id: string; usage: number; mode: number; exportability: number; alg: number; raw?: Uint8Array };
    const keys: Key[] = [
      { id: 'u-d0-b', usage: U.KEY_USAGE_D0_DATA_ENCRYPTION, mode: M.MODE_OF_USE_B_ENCRYPT_DECRYPT, exportability: E.EXPORTABILITY_E_TRUSTED, alg: A.KEY_ALGORITHM_AES_128 },
      { id: 'u-d0-e', usage: U.KEY_USAGE_D0_DATA_ENCRYPTION, mode: M.MODE_OF_USE_E_ENCRYPT, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_128 },
      { id: 'u-d0-d', usage: U.KEY_USAGE_D0_DATA_ENCRYPTION, mode: M.MODE_OF_USE_D_DECRYPT, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_128 },
      { id: 'u-k0-b', usage: U.KEY_USAGE_K0_KEY_ENCRYPTION, mode: M.MODE_OF_USE_B_ENCRYPT_DECRYPT, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_256 },
      { id: 'u-k1-e', usage: U.KEY_USAGE_K1_TR31_KBPK, mode: M.MODE_OF_USE_E_ENCRYPT, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_256 },
      { id: 'u-k1-d', usage: U.KEY_USAGE_K1_TR31_KBPK, mode: M.MODE_OF_USE_D_DECRYPT, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_256 },
      { id: 'u-m6-c', usage: U.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC, mode: M.MODE_OF_USE_C_MAC_GENERATE_VERIFY, exportability: E.EXPORTABILITY_E_TRUSTED, alg: A.KEY_ALGORITHM_AES_128 },
      { id: 'u-m6-g', usage: U.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC, mode: M.MODE_OF_USE_G_MAC_GENERATE, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_128 },
      { id: 'u-m6-v', usage: U.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC, mode: M.MODE_OF_USE_V_MAC_VERIFY, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_128 },
      { id: 'u-p0-e', usage: U.KEY_USAGE_P0_PIN_ENCRYPTION, mode: M.MODE_OF_USE_E_ENCRYPT, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_128 },
      { id: 'u-b1-x', usage: U.KEY_USAGE_B1_DUKPT_INITIAL_KEY, mode: M.MODE_OF_USE_X_DERIVE, exportability: E.EXPORTABILITY_N_NON_EXPORTABLE, alg: A.KEY_ALGORITHM_AES_128 },
    ];
    const isMac = (u: number) => u === U.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC;
    const isKek = (u: number) => u === U.KEY_USAGE_K0_KEY_ENCRYPTION || u === U.KEY_USAGE_K1_TR31_KBPK;
    const ops: Record<string, { allowed(k: Key): boolean; run(k: Key): Promise<unknown> }> = {
      'MAC generation': { allowed: (k) => isMac(k.usage) && [M.MODE_OF_USE_C_MAC_GENERATE_VERIFY, M.MODE_OF_USE_G_MAC_GENERATE].includes(k.mode), run: (k) => b.keystore.generateMac(k.id, MAC.MAC_ALGORITHM_CMAC, new Uint8Array(20)) },
      'MAC verification': {
        allowed: (k) => isMac(k.usage) && [M.MODE_OF_USE_C_MAC_GENERATE_VERIFY, M.MODE_OF_USE_V_MAC_VERIFY].includes(k.mode),
        run: (k) => b.keystore.verifyMac(k.id, MAC.MAC_ALGORITHM_CMAC, new Uint8Array(20), k.raw ? aesCmac(k.raw, new Uint8Array(20)) : new Uint8Array(16)),
      },
      'data encryption': { allowed: (k) => k.usage === U.KEY_USAGE_D0_DATA_ENCRYPTION && k.mode !== M.MODE_OF_USE_D_DECRYPT, run: (k) => b.keystore.encryptData(k.id, new Uint8Array(16)) },
      'data decryption': { allowed: (k) => k.usage === U.KEY_USAGE_D0_DATA_ENCRYPTION && k.mode !== M.MODE_OF_USE_E_ENCRYPT, run: (k) => b.keystore.decryptData(k.id, new Uint8Array(16)) },
      'export': { allowed: (k) => k.exportability === E.EXPORTABILITY_E_TRUSTED, run: (k) => b.keystore.exportKeyBlock(k.id, 'kek') },
      'wrapping for export': { allowed: (k) => isKek(k.usage) && k.mode !== M.MODE_OF_USE_D_DECRYPT, run: (k) => b.keystore.exportKeyBlock('u-d0-b', k.id) },
      'unwrapping on import': {
        allowed: (k) => isKek(k.usage) && k.mode !== M.MODE_OF_USE_E_ENCRYPT,
        run: async (k) => b.keystore.importKeyBlock(`imp-${k.id}`, k.id, await wrap(tr31Header('D0000D0AB00N0000'), k.raw ?? new Uint8Array(32), new Uint8Array(16).fill(9))),
      },
      'DUKPT transaction': { allowed: (k) => k.usage === U.KEY_USAGE_B1_DUKPT_INITIAL_KEY, run: (k) => b.keystore.dukptNextTransaction(k.id) },
      'DUKPT PIN encryption (as pinpad)': {
        allowed: (k) => k.usage === U.KEY_USAGE_B1_DUKPT_INITIAL_KEY,
        run: (k) => b.asTa('pinpad', ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK, ks.DukptEncryptPinBlockRequest.encode({ keyId: k.id, format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4, pinField: new Uint8Array(16), panField: new Uint8Array(16) }).finish()),
      },
      'DUKPT MAC (as txsign)': {
        allowed: (k) => k.usage === U.KEY_USAGE_B1_DUKPT_INITIAL_KEY,
        run: (k) => b.asTa('txsign', ks.Command.COMMAND_DUKPT_GENERATE_MAC, ks.DukptGenerateMacRequest.encode({ keyId: k.id, data: new Uint8Array(8) }).finish()),
      },
    };

    beforeAll(async () => {
      for (const k of keys) {
        if (k.usage === U.KEY_USAGE_B1_DUKPT_INITIAL_KEY) {
          const ik = dukptAesInitialKey(new Uint8Array(16).fill(0x5a), unhex('0102030405060708'));
          await b.keystore.importKeyBlock(k.id, 'kek', await wrap(tr31Header('D0000B1AX00N0000', [['IK', '0102030405060708']]), kek, ik));
        } else if (k.usage === U.KEY_USAGE_P0_PIN_ENCRYPTION || isKek(k.usage)) {
          k.raw = await b.generateKnown(k.id, attrs(k.alg, k.usage, k.mode, k.exportability));
        } else {
          k.raw = await b.generateKnown(k.id, attrs(k.alg, k.usage, k.mode, k.exportability));
        }
      }
    });

    const cases = keys.flatMap((k) => Object.keys(ops).map((op) => [k.id, op] as const));
    test.each(cases)('%s × %s', async (id, op) => {
      const k = keys.find((x) => x.id === id)!;
      const o = ops[op];
      if (o.allowed(k)) {
        await o.run(k); // succeeds
      } else {
        const e = await expectTeeError(o.run(k), Status.ERROR_ACCESS_DENIED);
        expect(e.detail).not.toMatch(/[0-9A-F]{16}/); // no key material in the reason
      }
    });
  });

  test('DUKPT commands are reserved to their TA: REE and other TAs are refused', async () => {
    const req = ks.DukptEncryptPinBlockRequest.encode({ keyId: 'u-b1-x', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4, pinField: new Uint8Array(16), panField: new Uint8Array(16) }).finish();
    await expectTeeError(b.keystore.session.invoke(ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK, req), Status.ERROR_ACCESS_DENIED);
    await expectTeeError(b.asTa('stranger', ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK, req), Status.ERROR_ACCESS_DENIED);
    await expectTeeError(b.asTa('txsign', ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK, req), Status.ERROR_ACCESS_DENIED);
    const mac = ks.DukptGenerateMacRequest.encode({ keyId: 'u-b1-x', data: new Uint8Array(8) }).finish();
    await expectTeeError(b.asTa('pinpad', ks.Command.COMMAND_DUKPT_GENERATE_MAC, mac), Status.ERROR_ACCESS_DENIED);
    const kek = ks.InstallAgreedKekRequest.encode({ keyId: 'agreed', material: new Uint8Array(32).fill(1), attributes: attrs(A.KEY_ALGORITHM_AES_256, U.KEY_USAGE_K0_KEY_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT) }).finish();
    await expectTeeError(b.keystore.session.invoke(ks.Command.COMMAND_INSTALL_AGREED_KEK, kek), Status.ERROR_ACCESS_DENIED);
    await expectTeeError(b.asTa('pinpad', ks.Command.COMMAND_INSTALL_AGREED_KEK, kek), Status.ERROR_ACCESS_DENIED);
    const ok = ks.InstallAgreedKekResponse.decode(await b.asTa('attest', ks.Command.COMMAND_INSTALL_AGREED_KEK, kek));
    expect(ok.key?.wrappedBy).toBe('ecdh');
  });

  test('AES DUKPT: PIN blocks (format 4) and MACs equal the host-side derivation from the BDK, one KSN per PIN', async () => {
    const bdk = unhex('FEDCBA9876543210F1F1F1F1F1F1F1F1');
    const ikid = unhex('1234567890123456');
    const ik = dukptAesInitialKey(bdk, ikid);
    const info = await b.keystore.importKeyBlock('dukpt-aes', 'kek', await wrap(tr31Header('D0000B1AX00N0000', [['IK', hex(ikid)]]), kek, ik));
    expect(info.dukpt?.aes).toBe(true);
    const pinField = unhex('441234AAAAAAAAAA' + '0123456789ABCDEF');
    const panField = unhex('44321987654321000000000000000000');
    for (let t = 1; t <= 5; t++) {
      const r = ks.DukptEncryptPinBlockResponse.decode(await b.asTa('pinpad', ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK,
        ks.DukptEncryptPinBlockRequest.encode({ keyId: 'dukpt-aes', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4, pinField, panField }).finish()));
      expect(new DataView(r.ksn.buffer, r.ksn.byteOffset).getUint32(8)).toBe(t);
      const dk = dukptAesDerivationKey(ik, r.ksn);
      const pinKey = dukptAesWorkingKey(dk, r.ksn, 0x1000, 2);
      expect(hex(r.encryptedPinBlock)).toBe(hex(format4Encipher(pinKey, pinField, panField)));
      const m = ks.DukptGenerateMacResponse.decode(await b.asTa('txsign', ks.Command.COMMAND_DUKPT_GENERATE_MAC,
        ks.DukptGenerateMacRequest.encode({ keyId: 'dukpt-aes', data: pinField }).finish()));
      expect(hex(m.ksn)).toBe(hex(r.ksn)); // the MAC of the record travels under the PIN's KSN
      expect(hex(m.mac)).toBe(hex(aesCmac(dukptAesWorkingKey(dk, r.ksn, 0x2000, 2), pinField)));
    }
    const s = await b.keystore.dukptStatus('dukpt-aes');
    expect(s.transactionsLeft).toBeGreaterThan(1_000_000);
  });

  test('TDES DUKPT: format 0 PIN blocks and X9.19 MACs equal the derivation from the BDK', async () => {
    const bdk = unhex('0123456789ABCDEFFEDCBA9876543210');
    const ksn = unhex('FFFF9876543210E00000');
    const ipek = dukptTdesIpek(bdk, ksn);
    await b.keystore.importKeyBlock('dukpt-tdes', 'kek', await wrap(tr31Header('D0000B1TX00N0000', [['KS', hex(ksn)]]), kek, ipek));
    const clear = unhex('041274EDCBA9876F');
    for (let t = 1; t <= 3; t++) {
      const r = ks.DukptEncryptPinBlockResponse.decode(await b.asTa('pinpad', ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK,
        ks.DukptEncryptPinBlockRequest.encode({ keyId: 'dukpt-tdes', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_0, clearPinBlock: clear }).finish()));
      const txn = dukptTdesTxnKey(ipek, r.ksn);
      const pinKey = dukptTdesWorkingKey(txn, 'pin');
      expect(hex(r.encryptedPinBlock)).toBe(hex(createCipheriv('des-ede3-ecb', Buffer.concat([pinKey, pinKey.subarray(0, 8)]), null).setAutoPadding(false).update(clear)));
    }
    // Known answer, ANSI X9.24-1:2009 Annex A (first transaction, KSN FFFF9876543210E00001): the
    // vector file's dukpt-tdes.json carries it; here the third KSN must be ...E00003.
    expect(hex((await b.keystore.dukptStatus('dukpt-tdes')).ksn)).toBe('FFFF9876543210E00003');
    // The wrong format for the key set is refused.
    await expectTeeError(b.asTa('pinpad', ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK,
      ks.DukptEncryptPinBlockRequest.encode({ keyId: 'dukpt-tdes', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4, pinField: new Uint8Array(16), panField: new Uint8Array(16) }).finish()), Status.ERROR_BAD_PARAMETERS);
  });

  test('DUKPT state survives a restart and never goes back; a replayed state blob is SECURITY', async () => {
    const before = await b.keystore.dukptNextTransaction('dukpt-aes');
    const file = join(b.dataDir, 'storage', UUID.keystore.replace(/-/g, ''), 'objects', `${Buffer.from('key/dukpt-aes').toString('hex')}.blob`);
    const old = readFileSync(file);
    const after = await b.keystore.dukptNextTransaction('dukpt-aes');
    await b.restart();
    const resumed = await b.keystore.dukptNextTransaction('dukpt-aes');
    const c = (s: { ksn: Uint8Array }) => new DataView(s.ksn.buffer, s.ksn.byteOffset).getUint32(8);
    expect(c(after)).toBe(c(before) + 1);
    expect(c(resumed)).toBe(c(after) + 1);
    writeFileSync(file, old);
    await expectTeeError(b.keystore.dukptNextTransaction('dukpt-aes'), Status.ERROR_SECURITY);
  });

  test('limits: maximum uses, expiry and minimum interval are enforced and survive a restart', async () => {
    const kb = await wrap(tr31Header('D0000D0AB00N0000'), kek, new Uint8Array(16).fill(7));
    await b.keystore.importKeyBlock('twice', 'kek', kb, { maxUses: 2 });
    await b.keystore.encryptData('twice', new Uint8Array(16));
    await b.restart();
    await b.keystore.encryptData('twice', new Uint8Array(16));
    const e = await expectTeeError(b.keystore.encryptData('twice', new Uint8Array(16)), Status.ERROR_ACCESS_DENIED);
    expect(e.detail).toMatch(/maximum number of uses/);
    expect((await b.keystore.getKeyInfo('twice')).uses).toBe(2);

    await b.keystore.importKeyBlock('expiring', 'kek', kb, { notAfterMs: (b.now.ms + 1000) as unknown as Long });
    await b.keystore.encryptData('expiring', new Uint8Array(16));
    b.now.ms += 2000;
    await expectTeeError(b.keystore.encryptData('expiring', new Uint8Array(16)), Status.ERROR_ACCESS_DENIED);

    await b.keystore.importKeyBlock('slow', 'kek', kb, { minIntervalMs: 5000 });
    await b.keystore.encryptData('slow', new Uint8Array(16));
    await expectTeeError(b.keystore.encryptData('slow', new Uint8Array(16)), Status.ERROR_ACCESS_DENIED);
    b.now.ms += 5000;
    await b.keystore.encryptData('slow', new Uint8Array(16));
  });

  test('clear-key import is refused by the release build', async () => {
    const e = await expectTeeError(b.keystore.session.invoke(ks.Command.COMMAND_IMPORT_CLEAR_KEY,
      ks.ImportClearKeyRequest.encode({ keyId: 'clear', attributes: attrs(A.KEY_ALGORITHM_AES_128, U.KEY_USAGE_D0_DATA_ENCRYPTION, M.MODE_OF_USE_B_ENCRYPT_DECRYPT), material: new Uint8Array(16) }).finish()), Status.ERROR_NOT_SUPPORTED);
    expect(e.detail).toMatch(/development builds/);
  });

  test('no response, error message or sealed file holds a clear key the test knows', async () => {
    const secrets = [kek, kekTdes].map((k) => Buffer.from(k).toString('hex').toUpperCase());
    for (const info of await b.keystore.listKeys()) {
      const s = Buffer.from(trusttap.keystore.v1.KeyInfo.encode(info).finish()).toString('hex').toUpperCase();
      for (const k of secrets) expect(s.includes(k.slice(0, 16))).toBe(false);
    }
    const dir = join(b.dataDir, 'storage', UUID.keystore.replace(/-/g, ''), 'objects');
    for (const f of readdirSync(dir)) {
      const s = readFileSync(join(dir, f)).toString('hex').toUpperCase();
      for (const k of secrets) expect(s.includes(k.slice(0, 16))).toBe(false);
    }
  });
});
