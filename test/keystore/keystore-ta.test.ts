// The keystore TA through the TEE Client API, on the signed build, with the TEE random source
// injected so the test knows what key the TA drew and can check its KCV independently. The same
// suite runs on the C host (test/conformance/c-host-keystore-ta.test.ts) through
// setKeystoreTaRuntime, with the fixture's BenchRuntime shape (transport, drawn, restart).
import { test, expect, beforeAll, afterAll, describe } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCipheriv } from 'node:crypto';
import { cmac } from '@noble/ciphers/aes.js';
import { TeeRuntime, InProcessTeeDriver, loadTaImages } from '../../tee/index.ts';
import { TeeContext, KeystoreClient, ks, TeeError } from '../../ree/tee-client/index.ts';
import { Status, Origin } from '../../proto/status.ts';
import { expectTeeError } from '../../conformance/index.ts';
import type { BenchRuntime, BenchRuntimeStarter } from './fixture.ts';

/** Another runtime for this suite (default: the reference runtime in-process). Read in beforeAll,
 * so a variant may set it right after importing this file. */
let starter: BenchRuntimeStarter | null = null;
export function setKeystoreTaRuntime(s: BenchRuntimeStarter | null): void { starter = s; }

const A = ks.KeyAlgorithm;
const attrs = (algorithm: number) => ({
  algorithm,
  usage: ks.KeyUsage.KEY_USAGE_D0_DATA_ENCRYPTION,
  modeOfUse: ks.ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT,
  exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE,
});

/** A deterministic TEE random source that records what it handed out. */
function recordingRandom(seed: number) {
  const drawn: Buffer[] = [];
  let x = seed;
  return {
    drawn,
    random(out: Uint8Array) {
      for (let i = 0; i < out.length; i++) { x = (x * 1103515245 + 12345) >>> 0; out[i] = x >>> 24; }
      drawn.push(Buffer.from(out));
    },
  };
}

const oddParity = (k: Uint8Array) => Buffer.from(k.map((b) => { const v = b & 0xfe; let p = 0; for (let i = 1; i < 8; i++) p ^= (v >> i) & 1; return v | (p ^ 1); }));

function expectedKcv(alg: number, raw: Uint8Array): string {
  if (alg === A.KEY_ALGORITHM_TDES_2KEY || alg === A.KEY_ALGORITHM_TDES_3KEY) {
    const k = oddParity(raw);
    const k24 = k.length === 16 ? Buffer.concat([k, k.subarray(0, 8)]) : k;
    const c = createCipheriv('des-ede3-ecb', k24, null).setAutoPadding(false);
    return Buffer.concat([c.update(Buffer.alloc(8)), c.final()]).subarray(0, 3).toString('hex');
  }
  return Buffer.from(cmac(new Uint8Array(16), new Uint8Array(raw))).subarray(0, 5).toString("hex"); // noble: cmac(msg, key)
}

describe('keystore TA', () => {
  const { images } = loadTaImages({ only: ['keystore'] });
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-ks-'));
  const rnd = recordingRandom(42);
  let rt: BenchRuntime;
  let ctx: TeeContext;
  let keystore: KeystoreClient;

  /** The reference runtime in-process with the recording random source. */
  async function reference(): Promise<BenchRuntime> {
    let runtime = await TeeRuntime.start({ tas: images, dataDir, random: rnd.random });
    return {
      transport: { exchange: (b) => new InProcessTeeDriver(runtime).exchange(b) },
      drawn: () => rnd.drawn,
      async restart() { runtime.shutdown(); runtime = await TeeRuntime.start({ tas: images, dataDir, random: rnd.random }); },
      async close() { runtime.shutdown(); },
    };
  }

  beforeAll(async () => {
    rt = starter ? await starter(images, dataDir, 42, { ms: Date.now() }) : await reference();
    ctx = await TeeContext.initialize(rt.transport);
    keystore = await KeystoreClient.open(ctx);
  });
  afterAll(async () => { await ctx.finalize(); await rt.close(); });

  test('PING names the TA, its version and the TA ABI version', async () => {
    const p = await keystore.ping();
    expect(p.name).toBe('keystore');
    expect(p.abiVersion).toBe(1);
    expect(Buffer.from(p.uuid).toString('hex')).toBe('5b9e0e40263611e1ad9e0002a5d5c51b');
  });

  test.each([
    ['TDES 2-key', A.KEY_ALGORITHM_TDES_2KEY, 16, 3],
    ['TDES 3-key', A.KEY_ALGORITHM_TDES_3KEY, 24, 3],
    ['AES-128', A.KEY_ALGORITHM_AES_128, 16, 5],
    ['AES-256', A.KEY_ALGORITHM_AES_256, 32, 5],
  ])('%s: generated inside, KCV matches an independent computation, no key bytes leave', async (_, alg, len, kcvLen) => {
    const before = rt.drawn().length;
    const info = await keystore.generateKey(`k-${alg}`, attrs(alg));
    const drawn = rt.drawn().slice(before).find((b) => b.length === len);
    expect(drawn).toBeDefined();
    const raw = Buffer.from(drawn!);
    expect(info.kcv.length).toBe(kcvLen);
    expect(Buffer.from(info.kcv).toString('hex')).toBe(expectedKcv(alg, raw));
    const all = Buffer.from(ks.KeyInfo.encode(info).finish());
    expect(all.includes(raw.subarray(0, 8))).toBe(false);
    // Nor in clear in sealed storage.
    const objDir = join(dataDir, 'storage', '5b9e0e40263611e1ad9e0002a5d5c51b', 'objects');
    for (const f of readdirSync(objDir)) expect(readFileSync(join(objDir, f)).includes(raw.subarray(0, 8))).toBe(false);
  });

  test('keys survive a runtime restart; list and delete', async () => {
    await keystore.generateKey('persist-me', attrs(A.KEY_ALGORITHM_AES_128));
    const kcv = Buffer.from((await keystore.getKeyInfo('persist-me')).kcv).toString('hex');
    await ctx.finalize();
    await rt.restart();
    ctx = await TeeContext.initialize(rt.transport);
    keystore = await KeystoreClient.open(ctx);
    expect(Buffer.from((await keystore.getKeyInfo('persist-me')).kcv).toString('hex')).toBe(kcv);
    expect((await keystore.listKeys()).map((k) => k.keyId)).toContain('persist-me');
    await keystore.deleteKey('persist-me');
    await expectTeeError(keystore.getKeyInfo('persist-me'), Status.ERROR_ITEM_NOT_FOUND, Origin.TRUSTED_APP);
    expect((await keystore.listKeys()).map((k) => k.keyId)).not.toContain('persist-me');
  });

  test('bad input gets a typed error that says what was wrong', async () => {
    await keystore.generateKey('dup', attrs(A.KEY_ALGORITHM_AES_128));
    const dup = await expectTeeError(keystore.generateKey('dup', attrs(A.KEY_ALGORITHM_AES_128)), Status.ERROR_ACCESS_CONFLICT);
    expect(dup.detail).toMatch(/exists/);
    const badId = await expectTeeError(keystore.generateKey('no spaces!', attrs(A.KEY_ALGORITHM_AES_128)), Status.ERROR_BAD_PARAMETERS);
    expect(badId.detail).toMatch(/key_id/);
    await expectTeeError(keystore.generateKey('x1', { ...attrs(A.KEY_ALGORITHM_AES_128), modeOfUse: ks.ModeOfUse.MODE_OF_USE_X_DERIVE }), Status.ERROR_BAD_PARAMETERS);
    await expectTeeError(keystore.generateKey('x2', { ...attrs(A.KEY_ALGORITHM_UNSPECIFIED) }), Status.ERROR_BAD_PARAMETERS);
    const mal = await expectTeeError(keystore.session.invoke(ks.Command.COMMAND_GENERATE_KEY, Uint8Array.of(0x0a, 0x09, 0x41)), Status.ERROR_BAD_FORMAT, Origin.TRUSTED_APP);
    expect(mal.detail).toMatch(/malformed GenerateKeyRequest/);
    await expectTeeError(keystore.session.invoke(77), Status.ERROR_BAD_PARAMETERS, Origin.TRUSTED_APP);
    await expectTeeError(keystore.getKeyInfo('never-made'), Status.ERROR_ITEM_NOT_FOUND);
  });

  test('a tampered key blob is reported and the other keys are still there', async () => {
    await keystore.generateKey('victim', attrs(A.KEY_ALGORITHM_AES_128));
    await keystore.generateKey('bystander', attrs(A.KEY_ALGORITHM_AES_128));
    const objDir = join(dataDir, 'storage', '5b9e0e40263611e1ad9e0002a5d5c51b', 'objects');
    const f = join(objDir, `${Buffer.from('key/victim').toString('hex')}.blob`);
    const b = readFileSync(f);
    b[b.length - 3] ^= 0x10;
    (await import('node:fs')).writeFileSync(f, b);
    const e = await expectTeeError(keystore.getKeyInfo('victim'), Status.ERROR_CORRUPT_OBJECT, Origin.TRUSTED_APP);
    expect(e).toBeInstanceOf(TeeError);
    expect((await keystore.getKeyInfo('bystander')).keyId).toBe('bystander');
  });
});
