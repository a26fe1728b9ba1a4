// Clear-key import exists only in development builds (TA_DEBUG): the debug keystore accepts it;
// the release build refuses it (keystore-keys.test.ts). Release runtimes load only release
// entries of the signed manifest (debug builds are marked there: test/build).
import { test, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCipheriv } from 'node:crypto';
import { compileAs } from '../helpers/asc.ts';
import { TeeRuntime, InProcessTeeDriver } from '../../tee/index.ts';
import { TeeContext, KeystoreClient, ks } from '../../ree/tee-client/index.ts';

const UUID = '5b9e0e40-2636-11e1-ad9e-0002a5d5c51b';
const attrs = { algorithm: ks.KeyAlgorithm.KEY_ALGORITHM_AES_128, usage: ks.KeyUsage.KEY_USAGE_D0_DATA_ENCRYPTION, modeOfUse: ks.ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE };

test('the debug keystore imports a clear key', async () => {
  const wasm = await compileAs('ta/keystore/index.ts', ['--use', 'TA_DEBUG=1', '--maximumMemory', '16']);
  const image = { name: 'keystore', uuid: UUID, version: '0.2.0-debug', wasm };
  const rt = await TeeRuntime.start({ tas: [image], dataDir: mkdtempSync(join(tmpdir(), 'tt-dbg-')), allowDebugImports: true });
  const ctx = await TeeContext.initialize(new InProcessTeeDriver(rt));
  const keystore = await KeystoreClient.open(ctx);
  const key = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
  const r = ks.ImportClearKeyResponse.decode(await keystore.session.invoke(ks.Command.COMMAND_IMPORT_CLEAR_KEY,
    ks.ImportClearKeyRequest.encode({ keyId: 'dev-key', attributes: attrs, material: key }).finish()));
  expect(r.key?.keyId).toBe('dev-key');
  const ct = await keystore.encryptData('dev-key', new Uint8Array(16));
  expect(Buffer.from(ct).toString('hex')).toBe(createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(new Uint8Array(16)).toString('hex'));
  // UnionPay SM4 key download with a published example (informative: a blog post, see
  // docs/keystore.md): the test TMK, the working key as the host sent it and its check value.
  const sm4 = (algorithm: number, usage: number, modeOfUse: number) => ({ algorithm, usage, modeOfUse, exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE });
  await keystore.session.invoke(ks.Command.COMMAND_IMPORT_CLEAR_KEY, ks.ImportClearKeyRequest.encode({
    keyId: 'tmk', material: Buffer.from('1234567890ABCDEFABCDEF0987654321', 'hex'),
    attributes: sm4(ks.KeyAlgorithm.KEY_ALGORITHM_SM4_128, ks.KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION, ks.ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT),
  }).finish());
  const pik = await keystore.importWrappedKey('pik', 'tmk', Buffer.from('3D66234C49E4296FF9C78D8BACBD6A76', 'hex'), Buffer.from('861E83E31FAEBF10', 'hex'),
    sm4(ks.KeyAlgorithm.KEY_ALGORITHM_SM4_128, ks.KeyUsage.KEY_USAGE_P0_PIN_ENCRYPTION, ks.ModeOfUse.MODE_OF_USE_E_ENCRYPT));
  expect(Buffer.from(pik.kcv).toString('hex').toUpperCase()).toBe('861E83E3');
  await ctx.finalize();
  rt.shutdown();
});
