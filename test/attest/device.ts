// A simulated phone for tests: provisioned by the test OEM, the reference runtime on the signed
// build (plus optional test TAs), the TEE Client API, the attest client and a health source.
// The runtime is a hook (setDeviceRuntime): test/attest/c-host-attest.test.ts points it at the C
// host and imports attest-ta.test.ts, so one suite runs on both runtimes.
import { mkdtempSync, readFileSync, existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, RUNTIME_VERSION, type TaImage } from '../../tee/index.ts';
import { TeeContext, type TeeTransport } from '../../ree/tee-client/index.ts';
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
  isolation?: 'in-process' | 'worker';
}

export type BootState = NonNullable<DeviceOptions['bootState']>;

/** A running device runtime, reached only through a client transport. */
export interface DeviceRuntime {
  transport: TeeTransport;
  /** The reference runtime (undefined on another runtime). */
  runtime?: TeeRuntime;
  close(): Promise<void>;
}

/** Where devices run. The default is the reference runtime; a suite file may set another
 * (setDeviceRuntime) before it imports attest-ta.test.ts. */
export interface DeviceRuntimeFactory {
  name: string;
  /** What differs between runtimes, for the tests to ask. */
  caps: {
    /** The runtime version the attest TA's measurements carry (each runtime names itself). */
    runtimeVersion: string;
    /** Worker isolation (the reference runtime's TAs in worker threads). */
    workerIsolation: boolean;
  };
  /** Starts the runtime on these TAs with the measured boot state and manifest hash. */
  start(tas: TaImage[], dataDir: string, o: { manifestSha256: string; bootState: BootState; isolation?: 'in-process' | 'worker' }): Promise<DeviceRuntime>;
}

export const referenceDeviceRuntime: DeviceRuntimeFactory = {
  name: 'reference runtime',
  caps: { runtimeVersion: RUNTIME_VERSION, workerIsolation: true },
  async start(tas, dataDir, o) {
    const runtime = await TeeRuntime.start({ tas, dataDir, manifestSha256: o.manifestSha256, bootState: o.bootState, isolation: o.isolation });
    return { runtime, transport: new InProcessTeeDriver(runtime), async close() { runtime.shutdown(); } };
  },
};

let factory: DeviceRuntimeFactory = referenceDeviceRuntime;
/** Runs every later startDevice on another runtime (set it before the suites are imported). */
export function setDeviceRuntime(f: DeviceRuntimeFactory | null): void { factory = f ?? referenceDeviceRuntime; }
/** The runtime devices start on (its capabilities decide what the tests expect). */
export const deviceRuntime = (): DeviceRuntimeFactory => factory;

export interface Device {
  dataDir: string;
  /** The reference runtime (undefined when the device runs on another runtime). */
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
  const rt = await factory.start([...images, ...(o.extra ?? [])], dataDir, { manifestSha256, bootState: o.bootState ?? 'verified', isolation: o.isolation });
  const ctx = await TeeContext.initialize(rt.transport);
  const attest = await AttestClient.open(ctx);
  const health = o.health ?? healthy();
  const dev: Device = {
    dataDir, runtime: rt.runtime as TeeRuntime, ctx, attest, manifestSha256, health,
    collector: new HealthCollector(() => dev.health),
    async close() { await ctx.finalize(); await rt.close(); },
  };
  return dev;
}

const root = new URL('../../', import.meta.url).pathname;
const compiled = new Map<string, Promise<Uint8Array>>();

/** Compiles a stand-in TA once per source content (cached under build/out/test/). */
function peer(name: 'txsign' | 'keystore' | 'other'): Promise<Uint8Array> {
  let p = compiled.get(name);
  if (!p) {
    p = (async () => {
      const h = createHash('sha256');
      for (const f of [`test/attest/as/fake-${name}.ts`, 'test/attest/as/peer.ts', 'ta/lib/entry.ts', 'ta/lib/kcv.ts', 'ta/lib/cmac.ts', 'ta/lib/cipher.ts', 'proto/gen/as/keystore.ts', 'proto/gen/as/tee.ts', 'proto/as/pb.ts']) {
        h.update(f).update(readFileSync(join(root, f)));
      }
      const file = join(root, 'build', 'out', 'test', `attest-peer-${name}-${h.digest('hex').slice(0, 16)}.wasm`);
      if (existsSync(file)) return new Uint8Array(readFileSync(file));
      const w = await compileAs(`test/attest/as/fake-${name}.ts`, ['--maximumMemory', '16']);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(`${file}.${process.pid}`, w);
      renameSync(`${file}.${process.pid}`, file);
      return w;
    })();
    compiled.set(name, p);
  }
  return p;
}

const PEER_UUID = { txsign: '7a1c5e00-7e5f-4c0d-9a11-7857a7e5f160', keystore: '5b9e0e40-2636-11e1-ad9e-0002a5d5c51b', other: '0c0fe7a0-0000-4000-8000-0000000a77e5' };

/** A stand-in TA (test/attest/as) as a runtime image. */
export async function peerImage(name: 'txsign' | 'keystore' | 'other'): Promise<TaImage> {
  return { name, uuid: PEER_UUID[name], version: '0.0.1-test', wasm: await peer(name) };
}

/** All three stand-ins. */
export async function peerImages() {
  return { txsign: await peerImage('txsign'), keystore: await peerImage('keystore'), other: await peerImage('other') };
}
