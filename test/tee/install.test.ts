// Issue 15 (cold start): the runtime boots once — the HUK, the RPMB key and the TA version floors,
// the power-on self-tests of its cryptography — and installs TAs into the booted TEE, as a phone
// loads a TA when the REE first asks for it. What this must keep: a TA is checked, held against
// its floor, measured and compiled from the runtime's own copy of its bytes; an install is all or
// nothing; the measurements list every TA installed, whenever it was.
import { test, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, RuntimeError } from '../../tee/index.ts';
import { TeeContext } from '../../ree/tee-client/index.ts';
import { AttestClient } from '../../ree/attestation/client.ts';
import { LoadError } from '../../common/load-error.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status } from '../../proto/status.ts';
import { provisionDevice } from '../../sim/oem/index.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'tt-install-'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function measurements(rt: TeeRuntime) {
  const ctx = await TeeContext.initialize(new InProcessTeeDriver(rt));
  try {
    const attest = await AttestClient.open(ctx);
    const se = await attest.getEvidence(new Uint8Array(32), null);
    return trusttap.attest.v1.Evidence.decode(se.evidence).measurements as trusttap.attest.v1.Measurements;
  } finally {
    await ctx.finalize();
  }
}

test('a TA installed after boot runs, and the measurements list it with the hash of the bytes that were checked', async () => {
  const dataDir = dir();
  provisionDevice(dataDir, {});
  const { images } = loadTaImages({ only: ['attest', 'keystore'] });
  const attest = images.find((i) => i.name === 'attest')!;
  const keystore = images.find((i) => i.name === 'keystore')!;
  const rt = await TeeRuntime.start({ tas: [attest], dataDir });
  try {
    expect(rt.taNames).toEqual(['attest']);
    expect(rt.openSession({ name: 'keystore' }).status).toBe(Status.ERROR_ITEM_NOT_FOUND);
    const before = await measurements(rt);
    expect(before.tas.map((t) => t.name)).toEqual(['attest']);

    const bytes = Uint8Array.from(keystore.wasm);
    const want = sha(bytes);
    await rt.install([{ ...keystore, wasm: bytes }]);
    bytes.fill(0); // the caller's array changes after install: the runtime runs and measures its own copy
    const o = rt.openSession({ name: 'keystore' });
    expect(o.status).toBe(Status.SUCCESS);
    expect(rt.invoke(o.session!, 0, new Uint8Array(0)).status).toBe(Status.SUCCESS);
    const after = await measurements(rt);
    expect(after.tas.map((t) => t.name)).toEqual(['attest', 'keystore']);
    expect(Buffer.from(after.tas[1]!.sha256!).toString('hex')).toBe(want);
  } finally {
    rt.shutdown();
  }
});

test('an install is all or nothing: a TA loaded twice or below its floor leaves the runtime and the floors as they were', async () => {
  const dataDir = dir();
  const { images } = loadTaImages({ only: ['keystore', 'txsign', 'pinpad'] });
  const [keystore, txsign, pinpad] = ['keystore', 'txsign', 'pinpad'].map((n) => images.find((i) => i.name === n)!);
  const rt = await TeeRuntime.start({ tas: [{ ...keystore!, version: '0.5.0' }], dataDir });
  try {
    const twice = await rt.install([txsign!, { ...keystore!, name: 'keystore-again' }]).catch((e) => e);
    expect(twice).toBeInstanceOf(RuntimeError);
    expect((twice as Error).message).toMatch(/loaded twice/);
    const older = await rt.install([pinpad!, { ...txsign!, version: '0.0.1' }]).then(() => null);
    expect(older).toBeNull(); // no floor yet for either: both load
    expect(rt.taNames.sort()).toEqual(['keystore', 'pinpad', 'txsign']);
  } finally {
    rt.shutdown();
  }
  // A second boot of the same device: keystore's floor is 0.5.0 (raised by the first boot).
  const rt2 = await TeeRuntime.start({ tas: [], dataDir });
  try {
    const refused = await rt2.install([txsign!, { ...keystore!, version: '0.4.0' }]).catch((e) => e);
    expect(refused).toBeInstanceOf(LoadError);
    expect((refused as LoadError).code).toBe('TA_ROLLBACK');
    expect(rt2.taNames).toEqual([]); // txsign, which was fine, was not installed either
    await rt2.install([{ ...keystore!, version: '0.5.0' }]);
    expect(rt2.taNames).toEqual(['keystore']);
  } finally {
    rt2.shutdown();
  }
});

/** The keystore's bytes with the first instruction of its first function made invalid (0xff): the
 * sections the ABI checks read are untouched, so only the compile refuses it. */
function uncompilable(wasm: Uint8Array): Uint8Array {
  const w = Uint8Array.from(wasm);
  let p = 8;
  const leb = () => { let r = 0, shift = 0, b; do { b = w[p++]!; r |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80); return r; };
  for (;;) {
    const id = w[p++]!;
    const size = leb();
    if (id !== 10) { p += size; continue; }
    leb(); // function count
    leb(); // first body's size
    for (let n = leb(); n > 0; n--) { leb(); p++; } // local declarations
    w[p] = 0xff;
    return w;
  }
}

test('a TA that passes the checks but does not compile installs nothing and raises no floor', async () => {
  const dataDir = dir();
  const { images } = loadTaImages({ only: ['keystore', 'txsign'] });
  const [keystore, txsign] = ['keystore', 'txsign'].map((n) => images.find((i) => i.name === n)!);
  const rt = await TeeRuntime.start({ tas: [], dataDir });
  try {
    const e = await rt.install([txsign!, { ...keystore!, version: '9.9.9', wasm: uncompilable(keystore!.wasm) }]).catch((x) => x);
    expect(e).toBeInstanceOf(WebAssembly.CompileError);
    expect(rt.taNames).toEqual([]);
    await rt.install([{ ...keystore!, version: '0.0.1' }]); // 9.9.9 was never recorded as a floor
    expect(rt.taNames).toEqual(['keystore']);
  } finally {
    rt.shutdown();
  }
});
