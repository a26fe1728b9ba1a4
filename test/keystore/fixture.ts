// A keystore test bench: the release keystore on the reference runtime with a recording TEE
// random source (so a test knows the keys the TA drew), a settable REE clock, and the probe TA
// loaded under the pinpad, txsign and attest identities to exercise TA-to-TA access rules.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, type TaImage } from '../../tee/index.ts';
import { TeeContext, KeystoreClient, ks, type KeyAttributes, type TeeTransport } from '../../ree/tee-client/index.ts';
import { probeImages } from '../../conformance/index.ts';

export const UUID = {
  keystore: '5b9e0e40-2636-11e1-ad9e-0002a5d5c51b',
  pinpad: '3f1c9a40-5a1e-4b7d-8c2e-9b0d7e1a2c30',
  txsign: '7a1c5e00-7e5f-4c0d-9a11-7857a7e5f160',
  attest: 'a77e5700-0d1c-4e0a-9b5e-a77e57a77e57',
  stranger: '0c0fe7a0-0000-4000-8000-00000000beef',
};

export const oddParity = (k: Uint8Array) => Uint8Array.from(k, (b) => {
  const v = b & 0xfe;
  let p = 0;
  for (let i = 1; i < 8; i++) p ^= (v >> i) & 1;
  return v | (p ^ 1);
});

/** A runtime the bench can run on, reached only through a client transport. The default is the
 * reference runtime in-process; test/conformance/c-host-keystore.test.ts sets the C host. */
export interface BenchRuntime {
  transport: TeeTransport;
  /** Every random draw the TEE made for TAs so far (the fixture's recording LCG stream). */
  drawn(): Uint8Array[];
  restart(): Promise<void>;
  close(): Promise<void>;
}
/** Starts a runtime with these TAs on dataDir, drawing randomness from the fixture's LCG with
 * this seed and reading the REE clock from now.ms. */
export type BenchRuntimeStarter = (tas: TaImage[], dataDir: string, seed: number, now: { ms: number }) => Promise<BenchRuntime>;
let starter: BenchRuntimeStarter | null = null;
/** Runs every later startBench on another runtime (set before the suites are imported). */
export function setBenchRuntime(s: BenchRuntimeStarter | null): void { starter = s; }

export interface Bench {
  /** The reference runtime (undefined when the bench runs on another runtime). */
  runtime: TeeRuntime;
  ctx: TeeContext;
  keystore: KeystoreClient;
  dataDir: string;
  now: { ms: number };
  /** Generates a key and returns the clear material the TA drew (with TDES parity; AES and SM4 as drawn). */
  generateKnown(keyId: string, attrs: KeyAttributes): Promise<Uint8Array>;
  /** Calls a keystore command from a TA identity (pinpad, txsign, attest, stranger). */
  asTa(who: keyof typeof UUID, command: number, payload: Uint8Array): Promise<Uint8Array>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

function recordingRandom(seed: number) {
  const drawn: Uint8Array[] = [];
  let x = seed >>> 0;
  return {
    drawn,
    random(out: Uint8Array) {
      for (let i = 0; i < out.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; out[i] = x >>> 24; }
      drawn.push(Uint8Array.from(out));
    },
  };
}

export async function startBench(seed = 1, extra: TaImage[] = []): Promise<Bench> {
  const { images } = loadTaImages({ only: ['keystore'] });
  const probe = (await probeImages())[0].wasm;
  // Probes stand in for the TAs not loaded for real (a real TA keeps its own identity).
  const probes = (['pinpad', 'txsign', 'attest', 'stranger'] as const)
    .filter((n) => !extra.some((t) => t.uuid === UUID[n]))
    .map((n) => ({ name: `probe-${n}`, uuid: UUID[n], version: '0.0.0-probe', wasm: probe }));
  const tas = [...images, ...probes, ...extra];
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-ksb-'));
  const now = { ms: Date.UTC(2026, 10, 25) };
  const rt = starter ? await starter(tas, dataDir, seed, now) : await referenceRuntime(tas, dataDir, seed, now);
  const b: Bench = {
    runtime: (rt as { runtime?: TeeRuntime }).runtime as TeeRuntime,
    ctx: undefined as unknown as TeeContext,
    keystore: undefined as unknown as KeystoreClient,
    dataDir,
    now,
    async generateKnown(keyId, attrs) {
      const before = rt.drawn().length;
      await b.keystore.generateKey(keyId, attrs);
      const len = ({ 1: 16, 2: 24, 3: 16, 4: 24, 5: 32, 6: 16 } as Record<number, number>)[attrs.algorithm!];
      const raw = rt.drawn().slice(before).find((d) => d.length === len)!;
      const tdes = attrs.algorithm! === ks.KeyAlgorithm.KEY_ALGORITHM_TDES_2KEY || attrs.algorithm! === ks.KeyAlgorithm.KEY_ALGORITHM_TDES_3KEY;
      return tdes ? oddParity(raw) : raw; // only TDES keys carry DES parity
    },
    async asTa(who, command, payload) {
      const s = await b.ctx.openSession(`probe-${who}`);
      try {
        const hdr = new Uint8Array(20);
        hdr.set(Buffer.from(UUID.keystore.replace(/-/g, ''), 'hex'));
        new DataView(hdr.buffer).setUint32(16, command, true);
        const msg = new Uint8Array(20 + payload.length);
        msg.set(hdr);
        msg.set(payload, 20);
        return await s.invoke(7, msg);
      } finally {
        await s.close();
      }
    },
    async restart() {
      await b.ctx.finalize();
      await rt.restart();
      b.runtime = (rt as { runtime?: TeeRuntime }).runtime as TeeRuntime;
      b.ctx = await TeeContext.initialize(rt.transport);
      b.keystore = await KeystoreClient.open(b.ctx);
    },
    async close() {
      await b.ctx.finalize();
      await rt.close();
    },
  };
  b.ctx = await TeeContext.initialize(rt.transport);
  b.keystore = await KeystoreClient.open(b.ctx);
  return b;
}

async function referenceRuntime(tas: TaImage[], dataDir: string, seed: number, now: { ms: number }): Promise<BenchRuntime & { runtime: TeeRuntime }> {
  const rnd = recordingRandom(seed);
  const start = () => TeeRuntime.start({ tas, dataDir, random: rnd.random, reeTimeMs: () => now.ms });
  const r = {
    runtime: await start(),
    transport: { exchange: (bytes: Uint8Array) => new InProcessTeeDriver(r.runtime).exchange(bytes) },
    drawn: () => rnd.drawn,
    async restart() { r.runtime.shutdown(); r.runtime = await start(); },
    async close() { r.runtime.shutdown(); },
  };
  return r;
}

/** A TR-31 header with optional blocks, padded with a PB block to the cipher block of its version. */
export function tr31Header(fixed: string, blocks: [string, string][] = []): string {
  const bl = fixed[0] === 'D' ? 16 : fixed[0] === 'E' ? 1 : 8;
  const enc = (id: string, data: string) => id + (4 + data.length).toString(16).toUpperCase().padStart(2, '0') + data;
  let body = blocks.map(([id, d]) => enc(id, d)).join('');
  let n = blocks.length;
  let len = 16 + body.length;
  if (len % bl !== 0) {
    let pad = bl - (len % bl);
    if (pad < 4) pad += bl;
    body += enc('PB', '0'.repeat(pad - 4));
    n++;
  }
  return fixed.slice(0, 12) + n.toString().padStart(2, '0') + fixed.slice(14, 16) + body;
}
