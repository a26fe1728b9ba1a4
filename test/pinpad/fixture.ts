// A phone for PIN-entry tests: the release keystore, attest and pinpad TAs on the reference
// runtime with a scripted person at the trusted UI, DUKPT key sets imported under TR-31 from
// BDKs the test knows, a provisioned OEM key, and a test back end that signs verdict tokens.
// The key import runs once per test file (a template data directory); each phone gets a copy.
// The runtime is a hook (setPhoneRuntime): test/pinpad/c-host-pinpad.test.ts points it at the C
// host and imports pinpad.test.ts, so one suite runs on both runtimes.
import { toLowS } from '../../common/verdict-token.ts';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, ScriptedUiProvider, ScriptedAccessibleUiProvider, type Isolation, type TaImage, type UiProviders } from '../../tee/index.ts';
import { TeeContext, ks, type TeeTransport } from '../../ree/tee-client/index.ts';
import { PinpadClient, pp, type SignedVerdict } from '../../ree/pin/pin-entry.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { provisionDevice } from '../../sim/oem/index.ts';
import { startBench, setBenchRuntime, tr31Header, type BenchRuntimeStarter } from '../keystore/fixture.ts';
import { paylib, ascii, text } from '../as/paylib-host.ts';
import { dukptAesInitialKey, dukptAesDerivationKey, dukptAesWorkingKey, dukptTdesIpek, dukptTdesTxnKey, dukptTdesWorkingKey } from '../paylib/ref.ts';

const at = trusttap.attest.v1;
export const unhex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** The BDKs the test's "acquirer HSM" holds (never on the phone). */
export const KEYS = {
  aesBdk: unhex('FEDCBA9876543210F1F1F1F1F1F1F1F1'),
  aesIkid: unhex('1234567890123456'),
  tdesBdk: unhex('0123456789ABCDEFFEDCBA9876543210'),
  tdesKsn: unhex('FFFF9876543210E00000'),
  /** The UnionPay SM4 PIN key (PIK) the host downloads under the phone's SM4 TMK. */
  sm4Pik: unhex('0F1E2D3C4B5A69788796A5B4C3D2E1F0'),
};
export const PAN = '4761739001010119';

/** A running phone runtime, reached only through a client transport. */
export interface PhoneRuntime {
  transport: TeeTransport;
  /** The reference runtime (undefined on another runtime). */
  runtime?: TeeRuntime;
  close(): Promise<void>;
}

export interface PhoneRuntimeStartOptions {
  isolation: Isolation;
  /** The trusted UI (undefined: none). */
  ui?: UiProviders;
  /** Injected REE and TEE clocks; the same object across a phone's restarts (tests move it). */
  now?: { ree: number; mono: number };
  log?: (ta: string, line: string) => void;
}

/** Where phones run. The default is the reference runtime; a suite file may set another
 * (setPhoneRuntime) before it imports pinpad.test.ts. */
export interface PhoneRuntimeFactory {
  name: string;
  /** What only some runtimes have; tests that need one run only where it is true. */
  caps: {
    /** Worker isolation (the reference runtime's TAs in worker threads). */
    workerIsolation: boolean;
    /** The synchronous in-process driver (handleClientRequest on phone.runtime). */
    syncDriver: boolean;
  };
  /** The keystore bench runtime the key-import template is made on (null: the reference). */
  bench: BenchRuntimeStarter | null;
  start(tas: TaImage[], dataDir: string, o: PhoneRuntimeStartOptions): Promise<PhoneRuntime>;
}

export const referencePhoneRuntime: PhoneRuntimeFactory = {
  name: 'reference runtime',
  caps: { workerIsolation: true, syncDriver: true },
  bench: null,
  async start(tas, dataDir, o) {
    const now = o.now;
    const runtime = await TeeRuntime.start({
      tas, dataDir, isolation: o.isolation, log: o.log, ui: o.ui,
      ...(now ? { reeTimeMs: () => now.ree, clockMs: () => now.mono } : {}),
    });
    return { runtime, transport: new InProcessTeeDriver(runtime), async close() { runtime.shutdown(); } };
  },
};

let factory: PhoneRuntimeFactory = referencePhoneRuntime;
/** Runs every later startPhone (and the key-import template) on another runtime; set it before
 * the suites are imported. */
export function setPhoneRuntime(f: PhoneRuntimeFactory | null): void {
  factory = f ?? referencePhoneRuntime;
  setBenchRuntime(factory.bench);
  template = null;
}
/** The runtime phones start on (its capabilities decide which tests run). */
export const phoneRuntime = (): PhoneRuntimeFactory => factory;

let template: Promise<string> | null = null;

/** A data directory with the key sets imported and the device provisioned (once per file). */
export function templateDir(): Promise<string> {
  template ??= (async () => {
    const b = await startBench(11);
    const p = await paylib();
    const kek = await b.generateKnown('kek', { algorithm: ks.KeyAlgorithm.KEY_ALGORITHM_AES_256, usage: ks.KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION, modeOfUse: ks.ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE });
    const wrap = (header: string, key: Uint8Array) => text(p.call('tr31Wrap', [0], [ascii(header), kek, key])[0]!);
    await b.keystore.importKeyBlock('pin-aes', 'kek', wrap(tr31Header('D0000B1AX00N0000', [['IK', hex(KEYS.aesIkid)]]), dukptAesInitialKey(KEYS.aesBdk, KEYS.aesIkid)));
    await b.keystore.importKeyBlock('pin-tdes', 'kek', wrap(tr31Header('D0000B1TX00N0000', [['KS', hex(KEYS.tdesKsn)]]), dukptTdesIpek(KEYS.tdesBdk, KEYS.tdesKsn)));
    // UnionPay SM4: a terminal master key drawn in the TEE (the test learns it from the recorded
    // random source, standing in for the host that shares it), then the PIN key downloaded under it.
    const tmk = await b.generateKnown('tmk-sm4', { algorithm: ks.KeyAlgorithm.KEY_ALGORITHM_SM4_128, usage: ks.KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION, modeOfUse: ks.ModeOfUse.MODE_OF_USE_D_DECRYPT, exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE });
    await b.keystore.importWrappedKey('pin-sm4', 'tmk-sm4', sm4Ecb(tmk, KEYS.sm4Pik), sm4Ecb(KEYS.sm4Pik, new Uint8Array(16)).subarray(0, 4),
      { algorithm: ks.KeyAlgorithm.KEY_ALGORITHM_SM4_128, usage: ks.KeyUsage.KEY_USAGE_P0_PIN_ENCRYPTION, modeOfUse: ks.ModeOfUse.MODE_OF_USE_E_ENCRYPT, exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE });
    await b.close();
    provisionDevice(b.dataDir);
    return b.dataDir;
  })();
  return template;
}

/** The back end's verdict-token signer (ECDSA P-256, r||s over the token bytes). */
export class TestBackend {
  readonly key: KeyObject;
  readonly publicKey: Uint8Array;
  constructor(seedKey?: KeyObject) {
    this.key = seedKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const jwk = createPublicKey(this.key).export({ format: 'jwk' });
    this.publicKey = new Uint8Array(Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]));
  }

  get keyId(): Uint8Array {
    return new Uint8Array(createHash('sha256').update(this.publicKey).digest());
  }

  /** A token for this device and nonce; `over` changes any field (a stale time, another verdict). */
  token(deviceKeySha256: Uint8Array, nonce: Uint8Array, nowMs: number, over: Record<string, unknown> = {}): SignedVerdict {
    const token = at.VerdictToken.encode({
      version: 1, deviceId: 'dev-0001', deviceKeySha256, verdict: at.Verdict.VERDICT_ALLOW, issuedMs: nowMs, expiresMs: nowMs + 120_000,
      policyVersion: 3, nonce, evidenceSha256: new Uint8Array(32), reasons: [], keyId: this.keyId, ...over,
    } as unknown as trusttap.attest.v1.IVerdictToken).finish();
    return { token, signature: this.sign(token) };
  }

  sign(bytes: Uint8Array): Uint8Array {
    return toLowS(new Uint8Array(sign('sha256', bytes, { key: this.key, dsaEncoding: 'ieee-p1363' }))); // as the back end's HSM signs
  }
}

export interface PhoneOptions {
  isolation?: Isolation;
  dataDir?: string;
  /** Injected REE and TEE clocks (in-process only on the reference runtime). */
  now?: { ree: number; mono: number };
  log?: (ta: string, line: string) => void;
  extra?: TaImage[];
  withUi?: boolean;
  /** Other UI providers than the scripted person (benchmarks). */
  ui?: UiProviders;
}

export interface Phone {
  dataDir: string;
  /** The reference runtime (undefined when the phone runs on another runtime). */
  runtime: TeeRuntime;
  /** The runtime the phone runs on. */
  rt: PhoneRuntime;
  ctx: TeeContext;
  person: ScriptedUiProvider;
  blind: ScriptedAccessibleUiProvider;
  backend: TestBackend;
  deviceKeySha256: Uint8Array;
  /** The attest callback for enterPin: the test back end signs a token for the nonce. */
  attest: (nonce: Uint8Array) => Promise<SignedVerdict>;
  nowRee(): number;
  restart(opts?: Partial<PhoneOptions>): Promise<void>;
  close(): Promise<void>;
}

export const images = () => loadTaImages({ only: ['keystore', 'attest', 'pinpad'] }).images;

export async function startPhone(o: PhoneOptions = {}, backend = new TestBackend()): Promise<Phone> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'tt-pin-'));
  if (!o.dataDir) cpSync(await templateDir(), dataDir, { recursive: true });
  const tas = [...images(), ...(o.extra ?? [])];
  // Provisioning reads the device identity from the attest TA, whose OEM certification the
  // runtime offers in-process only: provision in-process, then run in the isolation asked for.
  let opts: PhoneOptions = { ...o, isolation: 'in-process' };
  const make = async () => {
    const person = new ScriptedUiProvider();
    const blind = new ScriptedAccessibleUiProvider();
    const rt = await factory.start(tas, dataDir, {
      isolation: opts.isolation ?? 'in-process', log: opts.log, now: opts.now,
      ui: opts.withUi === false ? undefined : opts.ui ?? { standard: person, accessible: blind, audio: blind.ears },
    });
    const ctx = await TeeContext.initialize(rt.transport);
    return { person, blind, rt, runtime: rt.runtime as TeeRuntime, ctx };
  };
  const first = await make();
  const phone: Phone = {
    dataDir, ...first, backend, deviceKeySha256: new Uint8Array(0),
    nowRee: () => opts.now?.ree ?? Date.now(),
    attest: async (nonce) => phone.backend.token(phone.deviceKeySha256, nonce, phone.nowRee()),
    async restart(more = {}) {
      await phone.ctx.finalize();
      await phone.rt.close();
      opts = { ...opts, ...more };
      Object.assign(phone, await make());
    },
    async close() {
      await phone.ctx.finalize();
      await phone.rt.close();
    },
  };
  const pin = await PinpadClient.open(phone.ctx);
  phone.deviceKeySha256 = (await pin.provision(backend.publicKey)).deviceKeySha256;
  await pin.close();
  if ((o.isolation ?? 'in-process') !== 'in-process') await phone.restart({ isolation: o.isolation });
  return phone;
}

export async function withPinpad<T>(phone: Phone, fn: (p: PinpadClient) => Promise<T>): Promise<T> {
  const p = await PinpadClient.open(phone.ctx);
  try {
    return await fn(p);
  } finally {
    await p.close();
  }
}

// --- Independent decryption from the BDK (test/paylib/ref.ts), as the acquirer's HSM would ----

function panField4(pan: string): Uint8Array {
  const m = Math.max(0, pan.length - 12);
  const nib = [m, ...pan.padStart(12, '0').split('').map(Number)];
  while (nib.length < 32) nib.push(0);
  return Uint8Array.from({ length: 16 }, (_, i) => (nib[2 * i] << 4) | nib[2 * i + 1]);
}

const aesDecrypt = (k: Uint8Array, b: Uint8Array) => new Uint8Array(createDecipheriv(`aes-${k.length * 8}-ecb`, k, null).setAutoPadding(false).update(b));

/** The PIN in an ISO 9564 format 4 block under the AES DUKPT key of this KSN. */
export function decryptFormat4(block: Uint8Array, ksn: Uint8Array, pan: string): string {
  const ik = dukptAesInitialKey(KEYS.aesBdk, KEYS.aesIkid);
  const key = dukptAesWorkingKey(dukptAesDerivationKey(ik, ksn), ksn, 0x1000, 2);
  const inter = aesDecrypt(key, block);
  const pf = panField4(pan);
  const pinField = aesDecrypt(key, inter.map((b, i) => b ^ pf[i]));
  const h = hex(pinField);
  if (h[0] !== '4') throw new Error('not a format 4 PIN field');
  const n = parseInt(h[1], 16);
  return h.slice(2, 2 + n);
}

/** The PIN in an ISO 9564 format 0 block under the TDES DUKPT PIN key of this KSN. */
export function decryptFormat0(block: Uint8Array, ksn: Uint8Array, pan: string): string {
  const ipek = dukptTdesIpek(KEYS.tdesBdk, KEYS.tdesKsn);
  const k = dukptTdesWorkingKey(dukptTdesTxnKey(ipek, ksn), 'pin');
  const clear = new Uint8Array(createDecipheriv('des-ede3-ecb', Buffer.concat([k, k.subarray(0, 8)]), null).setAutoPadding(false).update(block));
  const panF = unhex('0000' + pan.slice(-13, -1));
  const h = hex(clear.map((b, i) => b ^ panF[i]));
  if (h[0] !== '0') throw new Error('not a format 0 block');
  return h.slice(2, 2 + parseInt(h[1], 16));
}

const sm4Ecb = (k: Uint8Array, b: Uint8Array) => new Uint8Array(createCipheriv('sm4-ecb', k, null).setAutoPadding(false).update(b));

/** The PIN in a UnionPay SM4 PIN block under the static PIN key (what the acquirer's HSM does):
 * SM4-ECB decrypt, XOR the PAN field (20 zero nibbles, then the 12 rightmost PAN digits without
 * the check digit), then read 0 N PIN F..F and insist on every fill nibble. */
export function decryptUnionPaySm4(block: Uint8Array, pan: string, key = KEYS.sm4Pik): string {
  if (block.length !== 16) throw new Error('a UnionPay SM4 PIN block is 16 bytes');
  const clear = new Uint8Array(createDecipheriv('sm4-ecb', key, null).setAutoPadding(false).update(block));
  const panF = unhex('0'.repeat(20) + pan.slice(-13, -1));
  const h = hex(clear.map((b, i) => b ^ panF[i]));
  if (h[0] !== '0') throw new Error('not a UnionPay SM4 PIN block');
  const n = parseInt(h[1], 16);
  if (n < 4 || n > 12 || !/^[0-9]+$/.test(h.slice(2, 2 + n)) || h.slice(2 + n) !== 'F'.repeat(30 - n)) throw new Error('bad PIN field');
  return h.slice(2, 2 + n);
}

export { pp, createPrivateKey };
