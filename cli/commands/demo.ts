// `trusttap demo`: the main job on embedded defaults. For now (foundation): start the
// reference TEE on the signed build, open a keystore session, generate a key inside the TA,
// print its KCV, restart the runtime and show that the sealed key survived.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRuntimeFromBuild, InProcessTeeDriver } from '../../tee/index.ts';
import { TeeContext, KeystoreClient, ks } from '../../ree/tee-client/index.ts';

export const summary = 'run the end-to-end demo on embedded defaults (reference TEE, keystore)';

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

export async function run(args: string[]): Promise<number> {
  const dataDir = arg(args, '--data') ?? mkdtempSync(join(tmpdir(), 'trusttap-demo-'));
  const isolation = (arg(args, '--isolation') ?? 'in-process') as 'in-process' | 'worker';
  console.log(`TrustTap demo — device state in ${dataDir}, ${isolation} isolation`);

  let runtime = await startRuntimeFromBuild({ dataDir, isolation });
  let ctx = await TeeContext.initialize(new InProcessTeeDriver(runtime));
  let keystore = await KeystoreClient.open(ctx);
  const ping = await keystore.ping();
  console.log(`1. opened a session to TA '${ping.name}' v${ping.version} (TA ABI v${ping.abiVersion})`);

  const keyId = 'demo-data-key';
  const info = await keystore.generateKey(keyId, {
    algorithm: ks.KeyAlgorithm.KEY_ALGORITHM_AES_128,
    usage: ks.KeyUsage.KEY_USAGE_D0_DATA_ENCRYPTION,
    modeOfUse: ks.ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT,
    exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE,
  });
  console.log(`2. generated AES-128 key '${keyId}' inside the TEE; KCV (AES-CMAC) ${hex(info.kcv)}`);
  await ctx.finalize();
  runtime.shutdown();
  console.log('3. runtime shut down (TA destroyed, only sealed storage remains)');

  runtime = await startRuntimeFromBuild({ dataDir, isolation });
  ctx = await TeeContext.initialize(new InProcessTeeDriver(runtime));
  keystore = await KeystoreClient.open(ctx);
  const again = await keystore.getKeyInfo(keyId);
  const same = hex(again.kcv) === hex(info.kcv);
  console.log(`4. after restart: key '${again.keyId}' KCV ${hex(again.kcv)} — ${same ? 'survived' : 'CHANGED'}`);
  await ctx.finalize();
  runtime.shutdown();
  return same ? 0 : 1;
}
