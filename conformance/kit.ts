// The TrustTap conformance kit for TEE runtimes (modelled on OP-TEE's xtest): what any runtime
// implementing host ABI v1 must do, checked through the TEE Client API only. A phone maker
// runs it against its own runtime by supplying a RuntimeFactory (runConformance in index.ts,
// plain node); `npm test` runs it under vitest against the reference runtime in both isolation
// modes (test/conformance/reference.test.ts) and against the C host. The suites are written
// against harness.ts, and load the kit's prebuilt test TAs (assets.ts), never a compiler.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, copyFileSync, cpSync, existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeContext, TeeError, type TeeTransport } from '../ree/tee-client/index.ts';
import { Status, Origin } from '../proto/status.ts';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import type { UiProviders } from '../tee/tui/provider.ts';
import { KIT_ASSETS_DIR, kitTaWasm } from './assets.ts';
import type { Harness } from './harness.ts';
import { cryptoConformanceSuite } from './kit-crypto.ts';

export interface TaImage { name: string; uuid: string; version: string; wasm: Uint8Array }

export interface RuntimeUnderTest {
  transport: TeeTransport;
  /** Stops the runtime and starts it again on the same device state. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface RuntimeFactory {
  name: string;
  /** Starts a runtime with these TAs on device state in dataDir; rejects TAs it must refuse.
   * `ui`, when given, is the trusted UI (a scripted person) the runtime must show entries on. */
  start(tas: TaImage[], dataDir: string, ui?: UiProviders): Promise<RuntimeUnderTest>;
  /** Starts from a build directory (signed manifest + wasm); rejects anything not vouched for. */
  startFromBuild(buildDir: string, dataDir: string): Promise<RuntimeUnderTest>;
  /** Where sealed objects of a TA live, for tamper and rollback checks. */
  sealedObjectFiles(dataDir: string, taUuid: string): string[];
  /** Whether a runaway TA is stopped by a watchdog (worker isolation). */
  watchdog: boolean;
  /** Whether start() honours `ui` (the trusted-UI category runs only then). */
  trustedUi?: boolean;
}

export const PROBE_UUID = '0c0fe7a0-0000-4000-8000-00000000c0de';
export const PROBE2_UUID = '0c0fe7a0-0000-4000-8000-00000000c0d2';
const CMD = { TRAP: 1, LOOP: 2, OOB: 3, PUT: 4, GET: 5, DEL: 6, CALL_TA: 7, WHOAMI: 8, ECHO: 9, BIG: 10, ALLOC: 11, RANDOM: 12, HOLD: 13, HELD_CALL: 14, RELEASE: 15, CALL_THEN_LOOP: 16 };
/** Cases of the probe TA's oob() switch (test/conformance/kit-self.test.ts keeps this true). */
export const OOB_CASES = 34;

const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
const cat = (...parts: Uint8Array[]) => { const o = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let i = 0; for (const p of parts) { o.set(p, i); i += p.length; } return o; };
const idArg = (id: string, data: Uint8Array = new Uint8Array(0)) => cat(Uint8Array.of(id.length), new TextEncoder().encode(id), data);
const le32 = (b: Uint8Array, at = 0) => new DataView(b.buffer, b.byteOffset, b.length).getUint32(at, true);
const uuidBytes = (u: string) => new Uint8Array(Buffer.from(u.replace(/-/g, ''), 'hex'));

/** One raw ClientRequest on a transport, for requests TeeContext would never send (a session id
 * that is not this client's): the decoded ClientResponse. */
export async function rawRequest(t: TeeTransport, op: { invoke?: { session: number; command: number; payload?: Uint8Array }; closeSession?: { session: number }; cancel?: { session: number } }): Promise<trusttap.tee.v1.ClientResponse> {
  const bytes = trusttap.tee.v1.ClientRequest.encode({ id: 0x7ee, ...op }).finish();
  return trusttap.tee.v1.ClientResponse.decode(await t.exchange(bytes));
}

/** A kit check that failed outside an expect (expectTeeError): names what was expected. */
export class ConformanceError extends Error {
  constructor(message: string) { super(message); this.name = 'ConformanceError'; }
}

/** Awaits p and requires a TeeError with this status (and origin). Free of any test framework,
 * so the repository's suites and the kit share it. */
export async function expectTeeError(p: Promise<unknown>, status: number, origin?: number): Promise<TeeError> {
  const e = await p.then(() => null, (x: unknown) => x);
  const want = new TeeError(status, 0, '').statusName;
  if (!(e instanceof TeeError)) {
    throw new ConformanceError(`expected a TeeError ${want}, got ${e === null ? 'success' : e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  if (e.statusName !== want) throw new ConformanceError(`expected TeeError ${want}, got ${e.statusName} (${e.message})`);
  if (origin !== undefined && e.origin !== origin) throw new ConformanceError(`expected ${want} with origin ${origin}, got origin ${e.origin}`);
  return e;
}

/** The probe TA twice (two identities), from the kit's prebuilt assets. */
export async function probeImages(assetsDir: string = KIT_ASSETS_DIR): Promise<TaImage[]> {
  const wasm = kitTaWasm('probe', assetsDir);
  return [
    { name: 'probe', uuid: PROBE_UUID, version: '1.0.0', wasm },
    { name: 'probe2', uuid: PROBE2_UUID, version: '1.0.0', wasm },
  ];
}

/** The runtime-behaviour categories plus the crypto category, for one runtime. */
export function conformanceSuite(h: Harness, factory: RuntimeFactory, assetsDir: string = KIT_ASSETS_DIR): void {
  const { describe, test, beforeAll, afterAll, expect } = h;
  describe(`TEE runtime conformance: ${factory.name}`, () => {
    let images: TaImage[];
    let dataDir: string;
    let rt: RuntimeUnderTest;
    let ctx: TeeContext;

    beforeAll(async () => {
      images = await probeImages(assetsDir);
      dataDir = mkdtempSync(join(tmpdir(), 'tt-conf-'));
      rt = await factory.start(images, dataDir);
      ctx = await TeeContext.initialize(rt.transport);
    });
    afterAll(async () => {
      await ctx?.finalize();
      await rt?.close();
    });

    test('1000 commands over 40 concurrent sessions on two TAs all answer correctly', async () => {
      const sessions = await Promise.all(Array.from({ length: 40 }, (_, i) => ctx.openSession(i % 2 ? 'probe2' : 'probe')));
      const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => {
        const payload = u32(i * 7919);
        return sessions[i % sessions.length].invoke(CMD.ECHO, payload).then((r) => Buffer.from(r).equals(Buffer.from(payload)));
      }));
      expect(results.every(Boolean)).toBe(true);
      const pings = await Promise.all(sessions.map((s) => s.ping()));
      expect(new Set(pings.map((p) => p.abiVersion))).toEqual(new Set([1]));
      await Promise.all(sessions.map((s) => s.close()));
    });

    test('a trap ends that TA instance with TARGET_DEAD; other sessions and TAs keep working', async () => {
      const a = await ctx.openSession('probe');
      const a2 = await ctx.openSession('probe');
      const b = await ctx.openSession('probe2');
      await a.invoke(CMD.PUT, idArg('survivor', Uint8Array.of(1, 2, 3)));
      await expectTeeError(a.invoke(CMD.TRAP), Status.ERROR_TARGET_DEAD, Origin.TEE);
      await expectTeeError(a.invoke(CMD.ECHO, u32(1)), Status.ERROR_TARGET_DEAD);
      await expectTeeError(a2.invoke(CMD.ECHO, u32(1)), Status.ERROR_TARGET_DEAD);
      expect(Buffer.from(await b.invoke(CMD.ECHO, u32(5)))).toEqual(Buffer.from(u32(5)));
      const again = await ctx.openSession('probe');
      expect(Array.from(await again.invoke(CMD.GET, idArg('survivor')))).toEqual([1, 2, 3]);
      for (const s of [a, a2, b, again]) await s.close().catch(() => undefined);
    });

    test('running out of Wasm memory (declared maximum) is TARGET_DEAD, not a host crash', async () => {
      const s = await ctx.openSession('probe');
      await expectTeeError(s.invoke(CMD.ALLOC, u32(200)), Status.ERROR_TARGET_DEAD);
      const t = await ctx.openSession('probe');
      expect(Array.from(await t.invoke(CMD.ECHO, Uint8Array.of(9)))).toEqual([9]);
      await t.close();
    });

    for (let which = 0; which < OOB_CASES; which++) test(`out-of-bounds pointer on host call #${which} panics the TA only`, async () => {
      const s = await ctx.openSession('probe');
      await expectTeeError(s.invoke(CMD.OOB, Uint8Array.of(which)), Status.ERROR_TARGET_DEAD);
      const t = await ctx.openSession('probe');
      expect(Array.from(await t.invoke(CMD.ECHO, Uint8Array.of(which)))).toEqual([which]);
      await t.close();
    });

    test('unknown command is BAD_PARAMETERS from the TA; short response buffer is SHORT_BUFFER with the size needed', async () => {
      const s = await ctx.openSession('probe');
      await expectTeeError(s.invoke(999), Status.ERROR_BAD_PARAMETERS, Origin.TRUSTED_APP);
      const e = await expectTeeError(s.invoke(CMD.BIG, u32(3000), 1024), Status.ERROR_SHORT_BUFFER);
      expect(e.sizeNeeded).toBe(3000);
      expect((await s.invoke(CMD.BIG, u32(3000), 4096)).length).toBe(3000);
      await s.close();
    });

    test('an unknown TA and an unknown session are refused with TEE/API origin', async () => {
      await expectTeeError(ctx.openSession('no-such-ta'), Status.ERROR_ITEM_NOT_FOUND, Origin.TEE);
      const s = await ctx.openSession('probe');
      await s.close();
      await expectTeeError(ctx.request({ invoke: { session: s.id, command: CMD.ECHO } }), Status.ERROR_BAD_PARAMETERS, Origin.API);
    });

    test('malformed client envelopes are a COMMS error, never a crash', async () => {
      for (const junk of [Uint8Array.of(0xff), Uint8Array.of(0x12, 0x05, 0x01), Uint8Array.of(0x08, 0x80)]) {
        const raw = await rt.transport.exchange(junk);
        const res = trusttap.tee.v1.ClientResponse.decode(raw);
        expect(res.status >>> 0).toBe(Status.ERROR_BAD_FORMAT);
        expect(res.origin).toBe(Origin.COMMS);
      }
    });

    test('sealed storage is isolated between TAs', async () => {
      const a = await ctx.openSession('probe');
      const b = await ctx.openSession('probe2');
      await a.invoke(CMD.PUT, idArg('secret', Uint8Array.of(42)));
      await expectTeeError(b.invoke(CMD.GET, idArg('secret')), Status.ERROR_ITEM_NOT_FOUND, Origin.TRUSTED_APP);
      await b.invoke(CMD.PUT, idArg('secret', Uint8Array.of(7)));
      expect(Array.from(await a.invoke(CMD.GET, idArg('secret')))).toEqual([42]);
      await a.close(); await b.close();
    });

    test('sealed objects survive a restart; a tampered blob is CORRUPT_OBJECT, a rolled-back one SECURITY, and nothing else is lost', async () => {
      let s = await ctx.openSession('probe');
      await s.invoke(CMD.PUT, idArg('roll', Uint8Array.of(1)));
      await s.invoke(CMD.PUT, idArg('flip', Uint8Array.of(5, 5, 5)));
      await s.invoke(CMD.PUT, idArg('keep', Uint8Array.of(9)));
      const files = () => factory.sealedObjectFiles(dataDir, PROBE_UUID);
      const fileOf = (id: string) => files().find((f) => f.includes(Buffer.from(id).toString('hex')))!;
      const old = readFileSync(fileOf('roll'));
      await s.invoke(CMD.PUT, idArg('roll', Uint8Array.of(2)));
      await s.close();
      await ctx.finalize();
      await rt.restart();
      ctx = await TeeContext.initialize(rt.transport);
      s = await ctx.openSession('probe');
      expect(Array.from(await s.invoke(CMD.GET, idArg('roll')))).toEqual([2]);
      writeFileSync(fileOf('roll'), old);
      await expectTeeError(s.invoke(CMD.GET, idArg('roll')), Status.ERROR_SECURITY, Origin.TRUSTED_APP);
      const f = fileOf('flip');
      const blob = readFileSync(f);
      blob[blob.length - 20] ^= 1;
      writeFileSync(f, blob);
      await expectTeeError(s.invoke(CMD.GET, idArg('flip')), Status.ERROR_CORRUPT_OBJECT, Origin.TRUSTED_APP);
      expect(Array.from(await s.invoke(CMD.GET, idArg('keep')))).toEqual([9]);
      await s.close();
    });

    test('a deleted object stays deleted even if its old file is put back', async () => {
      const s = await ctx.openSession('probe');
      await s.invoke(CMD.PUT, idArg('gone', Uint8Array.of(3)));
      const f = factory.sealedObjectFiles(dataDir, PROBE_UUID).find((x) => x.includes(Buffer.from('gone').toString('hex')))!;
      const old = readFileSync(f);
      await s.invoke(CMD.DEL, idArg('gone'));
      writeFileSync(f, old);
      await expectTeeError(s.invoke(CMD.GET, idArg('gone')), Status.ERROR_ITEM_NOT_FOUND);
      await s.close();
    });

    test('TA anti-rollback: an older version of a TA than this device loaded is refused (TA_ROLLBACK); a newer one loads', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tt-conf-floor-'));
      const at = (v: string) => images.map((i, k) => (k === 0 ? { ...i, version: v } : i));
      await (await factory.start(at('2.1.0'), dir)).close();
      await expect(factory.start(at('2.0.9'), dir)).rejects.toThrow(/TA_ROLLBACK/);
      await (await factory.start(at('2.2.0'), dir)).close();
    });

    test('TA-to-TA sessions pass the caller identity; a TA cannot re-enter its caller', async () => {
      const a = await ctx.openSession('probe');
      const who = await a.invoke(CMD.CALL_TA, cat(uuidBytes(PROBE2_UUID), u32(CMD.WHOAMI)));
      const view = new DataView(who.buffer, who.byteOffset);
      expect(view.getUint32(0, true)).toBe(0xf0000000); // TEE_LOGIN_TRUSTED_APP
      expect(Buffer.from(who.subarray(4)).toString('hex')).toBe(PROBE_UUID.replace(/-/g, ''));
      const direct = await a.invoke(CMD.WHOAMI);
      expect(new DataView(direct.buffer, direct.byteOffset).getUint32(0, true)).toBe(0); // public client
      // probe → probe2 → probe: the caller is busy.
      const nested = cat(uuidBytes(PROBE2_UUID), u32(CMD.CALL_TA), uuidBytes(PROBE_UUID), u32(CMD.ECHO), Uint8Array.of(1));
      await expectTeeError(a.invoke(CMD.CALL_TA, nested), Status.ERROR_BUSY);
      await a.close();
    });

    test('sessions belong to whoever opened them: a client cannot invoke, cancel or close a session a TA opened', async () => {
      const a = await ctx.openSession('probe');
      const held = await a.invoke(CMD.HOLD, uuidBytes(PROBE2_UUID));
      const sid = le32(held);
      for (const op of [{ invoke: { session: sid, command: CMD.WHOAMI } }, { cancel: { session: sid } }, { closeSession: { session: sid } }]) {
        const r = await rawRequest(rt.transport, op);
        expect(r.status >>> 0).toBe(Status.ERROR_BAD_PARAMETERS >>> 0);
        expect(r.payload.length).toBe(0);
      }
      // still open, and still the TA's: it speaks with the probe's identity through it
      const who = await a.invoke(CMD.HELD_CALL, cat(u32(0), u32(CMD.WHOAMI)));
      expect(Buffer.from(who.subarray(4)).toString('hex')).toBe(PROBE_UUID.replace(/-/g, ''));
      expect(le32(await a.invoke(CMD.RELEASE))).toBe(1);
      await a.close();
    });

    test('a TA opening many TA-to-TA sessions inside one invoke (the session table grows) answers that invoke', async () => {
      const a = await ctx.openSession('probe');
      const ids = await a.invoke(CMD.HOLD, cat(uuidBytes(PROBE2_UUID), u32(64)));
      expect(ids.length).toBe(64 * 4);
      expect(new Set(Array.from({ length: 64 }, (_, i) => le32(ids, i * 4))).size).toBe(64);
      expect(Buffer.from(await a.invoke(CMD.HELD_CALL, cat(u32(63), u32(CMD.ECHO), Uint8Array.of(7))))).toEqual(Buffer.from([7]));
      expect(le32(await a.invoke(CMD.RELEASE))).toBe(64);
      await a.close();
    });

    const watchdogCase = 'a TA that runs away is stopped by the watchdog (worker isolation)';
    // in-process isolation has no preemption (documented): the case does not apply there
    if (!factory.watchdog) h.skip(watchdogCase, 'the factory declares no watchdog (watchdog: false)');
    else test(watchdogCase, async () => {
      const s = await ctx.openSession('probe');
      const b = await ctx.openSession('probe2');
      await expectTeeError(s.invoke(CMD.LOOP), Status.ERROR_TARGET_DEAD, Origin.TEE);
      expect(Array.from(await b.invoke(CMD.ECHO, Uint8Array.of(4)))).toEqual([4]);
      const again = await ctx.openSession('probe');
      expect(Array.from(await again.invoke(CMD.ECHO, Uint8Array.of(5)))).toEqual([5]);
      await again.close(); await b.close();
    });

    const nestedCase = 'a caller whose TA-to-TA callee was killed by the watchdog is still limited';
    if (!factory.watchdog) h.skip(nestedCase, 'the factory declares no watchdog (watchdog: false)');
    else test(nestedCase, async () => {
      const s = await ctx.openSession('probe');
      // probe → probe2 runs away and is killed; then probe runs away itself and must be stopped too
      await expectTeeError(s.invoke(CMD.CALL_THEN_LOOP, cat(uuidBytes(PROBE2_UUID), u32(CMD.LOOP))), Status.ERROR_TARGET_DEAD, Origin.TEE);
      const again = await ctx.openSession('probe');
      expect(Array.from(await again.invoke(CMD.ECHO, Uint8Array.of(6)))).toEqual([6]);
      await again.close();
    });

    test('a TA importing a function outside the host ABI is refused at load, naming it', async () => {
      const wasm = kitTaWasm('rogue', assetsDir);
      const err = await factory.start([{ name: 'rogue', uuid: '0c0fe7a0-0000-4000-8000-0000000000ff', version: '1', wasm }], mkdtempSync(join(tmpdir(), 'tt-rogue-'))).then(() => null, (e) => e as Error);
      expect(err?.message).toMatch(/UNKNOWN_IMPORT.*tee\.open_file/);
    });
  });
  // The crypto category: Wycheproof through the runtime's host crypto (kit-crypto.ts).
  cryptoConformanceSuite(h, factory, assetsDir);
}

/** Manifest checks against a real signed build directory (npm run build). */
export function buildConformanceSuite(h: Harness, factory: RuntimeFactory, buildDir: string): void {
  const { describe, test, expect } = h;
  describe(`signed build loading: ${factory.name}`, () => {
    const copy = () => {
      const d = mkdtempSync(join(tmpdir(), 'tt-build-'));
      for (const f of readdirSync(buildDir)) if (f.endsWith('.wasm') || f.startsWith('manifest.')) copyFileSync(join(buildDir, f), join(d, f));
      cpSync(join(buildDir, 'keys'), join(d, 'keys'), { recursive: true });
      return d;
    };
    const data = () => mkdtempSync(join(tmpdir(), 'tt-data-'));

    test('the signed build loads and its TAs answer PING', async () => {
      const rt = await factory.startFromBuild(copy(), data());
      const ctx = await TeeContext.initialize(rt.transport);
      const s = await ctx.openSession('keystore');
      expect((await s.ping()).name).toBe('keystore');
      await ctx.finalize();
      await rt.close();
    });

    test('one flipped byte in a TA binary is refused', async () => {
      const d = copy();
      const f = join(d, 'keystore.wasm');
      const b = readFileSync(f);
      b[b.length >> 1] ^= 0x01;
      writeFileSync(f, b);
      await expect(factory.startFromBuild(d, data())).rejects.toThrow(/HASH_MISMATCH/);
    });

    test('a manifest with an altered byte is refused (BAD_SIGNATURE)', async () => {
      const d = copy();
      const f = join(d, 'manifest.json');
      writeFileSync(f, readFileSync(f, 'utf8').replace('"version": 1', '"version":  1'));
      await expect(factory.startFromBuild(d, data())).rejects.toThrow(/BAD_SIGNATURE/);
    });

    test('an unsigned build is refused (UNSIGNED)', async () => {
      const d = copy();
      writeFileSync(join(d, 'manifest.sig'), '');
      unlinkSync(join(d, 'manifest.sig'));
      expect(existsSync(join(d, 'manifest.sig'))).toBe(false);
      await expect(factory.startFromBuild(d, data())).rejects.toThrow(/UNSIGNED/);
    });
  });
}
