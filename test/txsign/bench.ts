// The txsign suites' bench: the keystore with an AES DUKPT initial key "dukpt" (imported as a
// TR-31 block under a known KEK), the real attest and txsign TAs, on whichever runtime the bench
// runs (test/keystore/fixture.ts: the reference runtime, or the C host via setBenchRuntime).
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { ks } from '../../ree/tee-client/index.ts';
import { loadTaImages } from '../../tee/index.ts';
import { paylib, ascii, text } from '../as/paylib-host.ts';
import { dukptAesInitialKey } from '../paylib/ref.ts';
import { startBench, tr31Header, type Bench } from '../keystore/fixture.ts';

export const tx = trusttap.txsign.v1;
export const TXSIGN_UUID = '7a1c5e00-7e5f-4c0d-9a11-7857a7e5f160';
export const unhex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
export const ikid = unhex('A1B2C3D4E5F60718');
export const ik = dukptAesInitialKey(unhex('00112233445566778899AABBCCDDEEFF'), ikid);

/** A bench with attest + txsign and the DUKPT key set "dukpt" in the keystore. */
export async function txsignBench(seed: number): Promise<Bench> {
  const b = await startBench(seed, loadTaImages({ only: ['attest', 'txsign'] }).images);
  const kek = await b.generateKnown('kek', { algorithm: ks.KeyAlgorithm.KEY_ALGORITHM_AES_256, usage: ks.KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION, modeOfUse: ks.ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE });
  const p = await paylib();
  const kb = text(p.call('tr31Wrap', [0], [ascii(tr31Header('D0000B1AX00N0000', [['IK', hex(ikid)]])), kek, ik])[0]!);
  await b.keystore.importKeyBlock('dukpt', 'kek', kb);
  return b;
}

/** A record as the REE fills it (the TA assigns the counter). */
export const record = (over: Record<string, unknown> = {}): trusttap.txsign.v1.TransactionRecord.$Properties => ({
  type: tx.TransactionType.TRANSACTION_TYPE_PURCHASE, amountMinor: 1234, currency: '156', merchantId: 'M-000123', terminalId: 'T0000042',
  applicationCryptogram: unhex('0102030405060708'), maskedPan: '623456******1234', timestampMs: 1_764_000_000_000, clientTransactionId: 'ctx-1', ...over,
}) as unknown as trusttap.txsign.v1.TransactionRecord.$Properties;
