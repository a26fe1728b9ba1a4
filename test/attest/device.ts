// A simulated phone for tests: provisioned by the test OEM, the reference runtime on the signed
// build (plus optional test TAs), the TEE Client API, the attest client and a health source.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, type TaImage } from '../../tee/index.ts';
import { TeeContext } from '../../ree/tee-client/index.ts';
import { AttestClient } from '../../ree/attestation/client.ts';
import { HealthCollector, type HealthSnapshot } from '../../ree/attestation/collector.ts';
import { provisionDevice, type ProvisionOptions } from '../../sim/oem/index.ts';
import { compileAs } from '../helpers/asc.ts';

export interface DeviceOptions {
  dataDir?: string;
  bootState?: 'verified' | 'self-signed' | 'unlocked' | 'failed' | 'unspecified';
  /** Build TAs to load (default: all release TAs). */
  only?: string[];
  extra?: TaImage[];
  provision?: ProvisionOptions | false;
  health?: HealthSnapshot;
}

export interface Device {
  dataDir: string;
  runtime: TeeRuntime;
  ctx: TeeContext;
  attest: AttestClient;
  manifestSha256: string;
  /** Mutable: tests change it between calls. */
  health: HealthSnapshot;
  collector: HealthCollector;
  close(): Promise<void>;
}

export const healthy = (): HealthSnapshot => ({
  rooted: false, debuggerAttached: false, hookingFramework: false, emulator: false, developerOptions: false,
  deviceId: 'android-id-0001', ipAddress: '192.0.2.10', location: { latitude: 31.2304, longitude: 121.4737, accuracyM: 20 },
  osVersion: 'Android 14', appVersion: '1.0.0',
});

export async function startDevice(o: DeviceOptions = {}): Promise<Device> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'tt-dev-'));
  if (o.provision !== false) provisionDevice(dataDir, o.provision || {});
  const { images, manifestSha256 } = loadTaImages(o.only ? { only: o.only } : {});
  const runtime = await TeeRuntime.start({
    tas: [...images, ...(o.extra ?? [])], dataDir, manifestSha256, bootState: o.bootState ?? 'verified',
  });
  const ctx = await TeeContext.initialize(new InProcessTeeDriver(runtime));
  const attest = await AttestClient.open(ctx);
  const health = o.health ?? healthy();
  const dev: Device = {
    dataDir, runtime, ctx, attest, manifestSha256, health,
    collector: new HealthCollector(() => dev.health),
    async close() { await ctx.finalize(); runtime.shutdown(); },
  };
  return dev;
}

let peers: Promise<{ txsign: Uint8Array; keystore: Uint8Array; other: Uint8Array }> | null = null;

/** The stand-in txsign / keystore / other TAs (test/attest/as), compiled once per process. */
export function peerImages() {
  peers ??= (async () => ({
    txsign: await compileAs('test/attest/as/fake-txsign.ts', ['--maximumMemory', '16']),
    keystore: await compileAs('test/attest/as/fake-keystore.ts', ['--maximumMemory', '16']),
    other: await compileAs('test/attest/as/fake-other.ts', ['--maximumMemory', '16']),
  }))();
  return peers.then((p) => ({
    txsign: { name: 'txsign', uuid: '7a1c5e00-7e5f-4c0d-9a11-7857a7e5f160', version: '0.0.1-test', wasm: p.txsign },
    keystore: { name: 'keystore', uuid: '5b9e0e40-2636-11e1-ad9e-0002a5d5c51b', version: '0.0.1-test', wasm: p.keystore },
    other: { name: 'other', uuid: '0c0fe7a0-0000-4000-8000-0000000a77e5', version: '0.0.1-test', wasm: p.other },
  }));
}
