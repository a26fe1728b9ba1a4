// Key store figures (issue 3): AES DUKPT PIN-key derivation + one format-4 encipherment in the
// TA's AssemblyScript (on host AES) vs the same in plain TypeScript on @noble (goal >= 1x);
// the keystore command as the pinpad calls it (derivation registers + sealed state save);
// TR-31 unwraps per second.
import { paylib, ascii } from '../as/paylib-host.ts';
import { dukptAesInitialKey, dukptAesDerivationKey, dukptAesWorkingKey, format4Encipher } from '../paylib/ref.ts';
import { startBench, tr31Header } from '../keystore/fixture.ts';
import { ks } from '../../ree/tee-client/index.ts';
import { timeSync, timeAsync, timePair, type Section } from './measure.ts';

export async function run(): Promise<Section> {
  const figures: Section['figures'] = [];
  const p = await paylib();
  const bdk = new Uint8Array(16).fill(0x31);
  const ikid = Uint8Array.from(Buffer.from('1234567890123456', 'hex'));
  const ik = dukptAesInitialKey(bdk, ikid);
  const pinField = Uint8Array.from(Buffer.from('441234AAAAAAAAAA0123456789ABCDEF', 'hex'));
  const panField = Uint8Array.from(Buffer.from('44321987654321000000000000000000', 'hex'));
  // Counter with 8 one bits: an average-depth derivation.
  const ksn = new Uint8Array(12);
  ksn.set(ikid);
  new DataView(ksn.buffer).setUint32(8, 0x00a5a5);
  const LOOP = 100;
  const [wasmLoop, tsLoop] = timePair(
    () => p.call('daPinLoop', [2, LOOP], [ik, ksn, pinField, panField]),
    () => { for (let i = 0; i < LOOP; i++) format4Encipher(dukptAesWorkingKey(dukptAesDerivationKey(ik, ksn), ksn, 0x1000, 2), pinField, panField); },
    3, 21,
  );
  const wasmPer = wasmLoop / LOOP;
  const tsPerCall = tsLoop / LOOP;
  figures.push({ name: 'AES DUKPT PIN key + format 4 encipher, TA code (Wasm on host AES)', value: 1e6 / wasmPer, unit: '/s' });
  figures.push({ name: 'same in TypeScript on @noble (reference, interleaved batches)', value: 1e6 / tsPerCall, unit: '/s' });
  figures.push({ name: '  ratio TA / TypeScript', value: tsPerCall / wasmPer, unit: '×', target: '≥ 1×', ok: tsPerCall / wasmPer >= 1 });

  // Through the keystore TA as the pinpad calls it (register step + encryption + sealed save).
  const b = await startBench(3);
  const kek = await b.generateKnown('kek', { algorithm: ks.KeyAlgorithm.KEY_ALGORITHM_AES_256, usage: ks.KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION, modeOfUse: ks.ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE });
  const wrap = (h: string, key: Uint8Array) => Buffer.from(p.call('tr31Wrap', [0], [ascii(h), kek, key])[0]!).toString('latin1');
  await b.keystore.importKeyBlock('set', 'kek', wrap(tr31Header('D0000B1AX00N0000', [['IK', '1234567890123456']]), ik));
  const req = ks.DukptEncryptPinBlockRequest.encode({ keyId: 'set', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4, pinField, panField }).finish();
  const s = await b.ctx.openSession('probe-pinpad');
  const call = new Uint8Array(20 + req.length);
  call.set(Buffer.from('5b9e0e40263611e1ad9e0002a5d5c51b', 'hex'));
  new DataView(call.buffer).setUint32(16, ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK, true);
  call.set(req, 20);
  const cmdUs = await timeAsync(() => s.invoke(7, call), 100, 5);
  figures.push({ name: 'keystore DUKPT_ENCRYPT_PIN_BLOCK from the pinpad (incl. sealed state save)', value: 1e6 / cmdUs, unit: '/s' });

  const block = ascii(wrap(tr31Header('D0000D0AB00N0000'), new Uint8Array(16).fill(5)));
  const unwrapUs = timeSync(() => p.call('tr31Unwrap', [], [block, kek]), 500);
  figures.push({ name: 'TR-31 version D unwraps (AES-256 KBPK, AES-128 key)', value: 1e6 / unwrapUs, unit: '/s' });
  const importUs = await timeAsync(async () => {
    await b.keystore.importKeyBlock('tmp', 'kek', Buffer.from(block).toString('latin1'));
    await b.keystore.deleteKey('tmp');
  }, 50, 5);
  figures.push({ name: 'keystore IMPORT_KEY_BLOCK + DELETE_KEY (sealed writes)', value: 1e6 / importUs, unit: '/s' });
  await b.close();
  return { title: 'Key store', figures, notes: ['sealed writes fsync: the command figures are bounded by the disk, the algorithm figures are not'] };
}
