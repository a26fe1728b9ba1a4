// The reference TrustTap TEE runtime: loads verified TA images, runs the GlobalPlatform life
// cycle (create, open session, invoke, close session, destroy) with many sessions per TA,
// isolates TAs in-process or one worker each, and routes TA-to-TA sessions with the caller's
// identity. Every failure is a status with an origin; a TA that traps is TARGET_DEAD for its
// sessions and is re-created on the next open, and nothing else is affected.
import { join } from 'node:path';
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Status, statusName, Origin } from '../proto/status.ts';
import { Login, TUI_PENDING } from './abi/ta-exports.ts';
import { trusttap } from '../proto/gen/ts/trusttap.js';
import { checkTaModule } from './loader/imports.ts';
import { Huk } from './huk.ts';
import { readVersionFloors, raiseVersionFloors, type Floors } from './ta-floor.ts';
import { RpmbSlots } from './storage/rpmb-slots.ts';
import { runSelfTests } from './crypto/self-test.ts';
import { createServices, rpmbFor, type ServiceOptions, type DeviceAttestation, type OemDeviceKey } from './services.ts';
import { HOST_ABI_VERSION } from './abi/table.ts';
import { TaDeadError, type TaReply } from './instance.ts';
import type { OutcallRouter, TaHost } from './host/ta-host.ts';
import { InProcessTaHost } from './host/in-process.ts';
import { WorkerTaHost } from './host/worker.ts';
import type { TaSessions, TuiPort } from './abi/context.ts';
import { decodeScreen, type UiProviders, type TuiScreen } from './tui/provider.ts';
import { PendingEntry } from './tui/entries.ts';
import { recordBoundary, recording } from './abi/recorder.ts';

export type Isolation = 'in-process' | 'worker';

/** A TA binary the runtime may load: already checked against a signed manifest (loader/). */
export interface TaImage {
  name: string;
  uuid: string;
  version: string;
  wasm: Uint8Array;
}

export interface RuntimeOptions {
  tas: TaImage[];
  /** Device state: sealed storage, simulated HUK and RPMB live under it. */
  dataDir: string;
  isolation?: Isolation;
  /** Watchdog budget per call in worker isolation. */
  timeBudgetMs?: number;
  /** Accept TAs that import the debug log (development builds only). */
  allowDebugImports?: boolean;
  /** Deterministic randomness and time for tests (in-process isolation only). */
  random?: ServiceOptions['random'];
  clockMs?: ServiceOptions['clockMs'];
  reeTimeMs?: ServiceOptions['reeTimeMs'];
  log?: (ta: string, line: string) => void;
  /** GP TA_FLAG_INSTANCE_KEEP_ALIVE for every TA: keep an instance after its last session
   * closes (default true; a worker costs tens of ms to start). false destroys it, as GP does
   * for TAs without the flag. */
  keepAlive?: boolean;
  /** Hex SHA-256 of the signed manifest.json the TAs came from (loadTaImages' manifestSha256);
   * reported in the measurements. */
  manifestSha256?: string;
  /** Verified-boot state the (simulated) bootloader reports; default UNSPECIFIED, which a
   * verifier treats as not verified. */
  bootState?: BootStateName;
  /** The TEE-side trusted UI (docs/trusted-ui.md); without it tui_begin is NOT_SUPPORTED. */
  ui?: UiProviders;
}

export type BootStateName = 'verified' | 'self-signed' | 'unlocked' | 'failed' | 'unspecified';
const BOOT_STATES: Record<BootStateName, number> = { unspecified: 0, verified: 1, 'self-signed': 2, unlocked: 3, failed: 4 };

/** The simulated RPMB device's image: beside the HUK, outside the sealed storage tree. */
export const RPMB_IMAGE_FILE = join('device', 'rpmb.img');

/** Where provisioning (sim/oem/) leaves the device's OEM attestation key. */
export const OEM_KEY_FILE = join('device', 'oem-attestation.json');

function loadOemKey(dataDir: string): OemDeviceKey | null {
  const path = join(dataDir, OEM_KEY_FILE);
  if (!existsSync(path)) return null;
  const j = JSON.parse(readFileSync(path, 'utf8')) as { private_key: string; certificate: string; serial: string };
  return { privateKey: new Uint8Array(Buffer.from(j.private_key, 'hex')), certificate: new Uint8Array(Buffer.from(j.certificate, 'base64')), serial: j.serial };
}

export interface Result {
  status: number;
  origin: number;
  message: string;
  session?: number;
  payload?: Uint8Array;
  sizeNeeded?: number;
}

export class RuntimeError extends Error {
  constructor(message: string) { super(message); this.name = 'RuntimeError'; }
}

interface TaRecord {
  image: TaImage;
  uuid: Uint8Array;
  module: WebAssembly.Module;
  host: TaHost | null;
  busy: boolean;
  sessions: Set<number>;
  /** Trusted UI: the session of a client invoke that may go pending, the screen tui_begin gave
   * during it, and the entry on display. */
  tuiSession: number | null;
  tuiBegun: { screen: TuiScreen; timeoutMs: number } | null;
  entry: PendingEntry<Result> | null;
}

interface Session {
  id: number;
  ta: TaRecord;
  /** The TA that opened it, for TA-to-TA sessions. */
  caller: Uint8Array | null;
  /** Opened by a TA (TA-to-TA): only that TA may use it, never a client (issue 17 §9). */
  byTa: boolean;
  /** Set when the TA died under this session: every later call is TARGET_DEAD. */
  dead: boolean;
}

export const RUNTIME_VERSION = '0.1.0';

export function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RuntimeError(`not a UUID: ${uuid}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

const ok = (extra: Partial<Result> = {}): Result => ({ status: Status.SUCCESS, origin: Origin.TRUSTED_APP, message: '', ...extra });
const fail = (status: number, origin: number, message: string, extra: Partial<Result> = {}): Result => ({ status, origin, message, ...extra });

export class TeeRuntime {
  private readonly byUuid = new Map<string, TaRecord>();
  private readonly byName = new Map<string, TaRecord>();
  private readonly sessions = new Map<number, Session>();
  private nextSession = 1;
  private readonly huk: Huk;
  private readonly storageDir: string;
  private readonly rpmbPath: string;
  /** The TEE core's own RPMB slot (the TA version floors) and what it held at boot, kept up to
   * date by every raise: only the core writes it. */
  private readonly coreSlots: RpmbSlots;
  private readonly floors: Floors;
  private measured: DeviceAttestation | undefined;
  readonly isolation: Isolation;

  private constructor(private readonly opts: RuntimeOptions) {
    this.isolation = opts.isolation ?? 'in-process';
    if (this.isolation === 'worker' && opts.random) throw new RuntimeError('injected randomness works in in-process isolation only');
    mkdirSync(opts.dataDir, { recursive: true });
    this.huk = Huk.openSimulated(join(opts.dataDir, 'device', 'huk.bin'));
    this.storageDir = join(opts.dataDir, 'storage');
    this.rpmbPath = join(opts.dataDir, RPMB_IMAGE_FILE);
    runSelfTests();
    this.coreSlots = new RpmbSlots(rpmbFor({ storageDir: this.storageDir, rpmbPath: this.rpmbPath, huk: this.huk }));
    // Programs the RPMB key on a device's first boot; the floors stay in memory after this read.
    this.floors = readVersionFloors(this.coreSlots);
  }

  /** Boots the TEE (the HUK, the power-on self-tests of its cryptography) and installs `tas`. */
  static async start(opts: RuntimeOptions): Promise<TeeRuntime> {
    const rt = new TeeRuntime(opts);
    await rt.install(opts.tas);
    return rt;
  }

  /** Loads TAs into the booted runtime, all or none: each image's imports and exports against
   * the ABI and its compile, then the anti-rollback floors (raised in RPMB when a TA is newer). The
   * runtime keeps its own copy of each image, so what was checked, measured and compiled is what
   * runs, whatever the caller does with its bytes afterwards. */
  async install(images: TaImage[]): Promise<void> {
    const names = new Set(this.byName.keys());
    const uuids = new Set(this.byUuid.keys());
    for (const image of images) {
      const uuid = image.uuid.toLowerCase();
      if (names.has(image.name) || uuids.has(uuid)) throw new RuntimeError(`TA ${image.name} loaded twice`);
      names.add(image.name);
      uuids.add(uuid);
    }
    const checked = images.map((image) => {
      const wasm = Uint8Array.from(image.wasm);
      checkTaModule(wasm, { release: !this.opts.allowDebugImports });
      // Synchronous compile: with V8's lazy compilation it only decodes and validates, and the
      // asynchronous path's hand-off to the compile threads costs more than that for a TA.
      return { image: { ...image, wasm }, module: new WebAssembly.Module(wasm) };
    });
    // Last, the one step that writes (RPMB): nothing before it changed anything.
    raiseVersionFloors(this.coreSlots, this.floors, images);
    for (const { image, module } of checked) {
      const rec: TaRecord = { image, uuid: uuidToBytes(image.uuid), module, host: null, busy: false, sessions: new Set(), tuiSession: null, tuiBegun: null, entry: null };
      this.byUuid.set(image.uuid.toLowerCase(), rec);
      this.byName.set(image.name, rec);
    }
    this.measured = undefined;
  }

  /** The runtime's own measurements (hashes of the images it loaded) and the OEM key, made on
   * first use: a start whose TAs never attest does not wait for them. */
  private get attestation(): DeviceAttestation {
    return (this.measured ??= this.measure());
  }

  private measure(): DeviceAttestation {
    const taSha256 = new Map<string, Uint8Array>();
    const tas = [...this.byName.values()].map(({ image, uuid }) => {
      // The runtime's own copy of the image, the bytes it checked and compiled.
      const sha256 = new Uint8Array(createHash('sha256').update(image.wasm).digest());
      taSha256.set(image.uuid.toLowerCase(), sha256);
      return { name: image.name, uuid, version: image.version, sha256 };
    });
    const measurements = trusttap.attest.v1.Measurements.encode({
      runtimeVersion: RUNTIME_VERSION,
      hostAbiVersion: HOST_ABI_VERSION,
      manifestSha256: this.opts.manifestSha256 ? Buffer.from(this.opts.manifestSha256, 'hex') : new Uint8Array(0),
      tas,
      bootState: BOOT_STATES[this.opts.bootState ?? 'unspecified'] ?? 0,
    }).finish();
    return { measurements, taSha256, oem: loadOemKey(this.opts.dataDir) };
  }

  get taNames(): string[] {
    return [...this.byName.keys()];
  }

  private find(target: { uuid?: Uint8Array; name?: string }): TaRecord | undefined {
    if (target.uuid && target.uuid.length) {
      const hex = Buffer.from(target.uuid).toString('hex');
      const text = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      return this.byUuid.get(text);
    }
    return target.name ? this.byName.get(target.name) : undefined;
  }

  private sessionsFor(rec: TaRecord): TaSessions {
    const opened = new Set<number>();
    return {
      open: (callee) => {
        const r = this.openSessionFor({ uuid: callee }, Login.TRUSTED_APP, rec.uuid, true);
        if (r.status !== Status.SUCCESS) return r.status | 0;
        opened.add(r.session!);
        return r.session!;
      },
      invoke: (session, command, input, outCap) => this.invokeAsTa(rec.uuid, session, command, input, outCap),
      close: (session) => { if (opened.delete(session)) this.closeAny(session); },
      closeAll: () => { for (const s of opened) this.closeAny(s); opened.clear(); },
    };
  }

  private readonly router: OutcallRouter = {
    open: (caller, callee) => {
      const r = this.openSessionFor({ uuid: callee }, Login.TRUSTED_APP, caller, true);
      return r.status === Status.SUCCESS ? r.session! : r.status | 0;
    },
    invoke: (caller, session, command, input, outCap) => this.invokeAsTa(caller, session, command, input, outCap),
    close: (caller, session) => {
      const s = this.sessions.get(session);
      if (s && s.byTa && s.caller && Buffer.from(s.caller).equals(Buffer.from(caller))) this.closeAny(session);
    },
    tuiBegin: (caller, screen, timeoutMs) => {
      const rec = this.find({ uuid: caller });
      return rec ? this.tuiPort(rec).begin(screen, timeoutMs) : Status.ERROR_BAD_STATE;
    },
    tuiUpdate: (caller, screen) => {
      const rec = this.find({ uuid: caller });
      return rec ? this.tuiPort(rec).update(screen) : Status.ERROR_BAD_STATE;
    },
  };

  /** The trusted UI as one TA sees it (host functions tui_begin, tui_update). */
  private tuiPort(rec: TaRecord): TuiPort {
    return {
      begin: (bytes, timeoutMs) => {
        if (!this.opts.ui) return Status.ERROR_NOT_SUPPORTED;
        if (rec.tuiSession === null || rec.tuiBegun) return Status.ERROR_BAD_STATE;
        if (rec.entry) return Status.ERROR_BUSY;
        if (timeoutMs < 100 || timeoutMs > 600_000) return Status.ERROR_BAD_PARAMETERS;
        const screen = decodeScreen(bytes);
        if (!screen) return Status.ERROR_BAD_FORMAT;
        if (recording()) recordBoundary({ channel: 'tui-screen', ta: rec.image.name, bytes });
        rec.tuiBegun = { screen, timeoutMs };
        return Status.SUCCESS;
      },
      update: (bytes) => {
        const screen = decodeScreen(bytes);
        if (!screen) return Status.ERROR_BAD_FORMAT;
        if (!rec.entry || rec.entry.done) return Status.ERROR_BAD_STATE;
        if (recording()) recordBoundary({ channel: 'tui-screen', ta: rec.image.name, bytes });
        rec.entry.update(screen);
        return Status.SUCCESS;
      },
    };
  }

  /** A TA may use only sessions it opened itself. */
  private invokeAsTa(caller: Uint8Array, session: number, command: number, input: Uint8Array, outCap: number): TaReply {
    const s = this.sessions.get(session);
    if (!s || !s.byTa || !s.caller || !Buffer.from(s.caller).equals(Buffer.from(caller))) {
      return { status: Status.ERROR_BAD_PARAMETERS, payload: new Uint8Array(0) };
    }
    if (recording()) recordBoundary({ channel: 'ta-call', ta: s.ta.image.name, what: `command ${command}`, bytes: input });
    const r = this.invokeAny(session, command, input, outCap);
    if (recording()) recordBoundary({ channel: 'ta-reply', ta: s.ta.image.name, what: `${r.status >>> 0} ${r.message}`, bytes: r.payload ?? new Uint8Array(0) });
    return { status: r.status, payload: r.payload ?? new Uint8Array(0) };
  }

  private newHost(rec: TaRecord): TaHost {
    if (this.isolation === 'worker') {
      return new WorkerTaHost({
        module: rec.module, name: rec.image.name, uuid: rec.uuid, storageDir: this.storageDir, rpmbPath: this.rpmbPath,
        huk: this.hukBytesForWorker(), timeBudgetMs: this.opts.timeBudgetMs ?? 5_000, router: this.router,
        debug: !!this.opts.allowDebugImports, attestation: this.attestation,
      });
    }
    const services = createServices({ name: rec.image.name, uuid: rec.uuid }, {
      storageDir: this.storageDir, rpmbPath: this.rpmbPath, huk: this.huk, random: this.opts.random, clockMs: this.opts.clockMs,
      reeTimeMs: this.opts.reeTimeMs, log: this.opts.log, attestation: () => this.attestation,
    }, this.sessionsFor(rec));
    services.tui = this.tuiPort(rec);
    return new InProcessTaHost(rec.module, services);
  }

  private hukBytesForWorker(): Uint8Array {
    // The worker is part of the TEE: it gets the HUK, never the REE.
    return this.huk.exportForTeeThread();
  }

  /** Marks a TA dead: its sessions answer TARGET_DEAD from now on; the next open re-creates it. */
  private bury(rec: TaRecord, reason: string): Result {
    this.opts.log?.(rec.image.name, `TA dead: ${reason}`);
    try { rec.host?.destroy(); } catch { /* already gone */ }
    rec.host = null;
    for (const id of rec.sessions) {
      const s = this.sessions.get(id);
      if (s) s.dead = true;
    }
    rec.sessions.clear();
    const dead = fail(Status.ERROR_TARGET_DEAD, Origin.TEE, `TA ${rec.image.name} died: ${reason}`);
    rec.entry?.finish(dead);
    rec.entry = null;
    return dead;
  }

  private enter<T>(rec: TaRecord, fn: (host: TaHost) => T): T | Result {
    if (rec.busy) return fail(Status.ERROR_BUSY, Origin.TEE, `TA ${rec.image.name} is busy (a TA-to-TA call may not re-enter its caller)`);
    rec.busy = true;
    try {
      if (!rec.host) {
        const host = this.newHost(rec);
        const status = host.create();
        if (status !== Status.SUCCESS) {
          host.destroy();
          return fail(status, Origin.TRUSTED_APP, `TA ${rec.image.name} refused creation: ${statusName(status)}`);
        }
        rec.host = host;
      }
      return fn(rec.host);
    } catch (e) {
      if (e instanceof TaDeadError) return this.bury(rec, e.message);
      throw e;
    } finally {
      rec.busy = false;
    }
  }

  /** Opens a session for a client (the client API; TA-to-TA sessions go through the router). */
  openSession(target: { uuid?: Uint8Array; name?: string }, login: number = Login.PUBLIC, client: Uint8Array = new Uint8Array(0)): Result {
    return this.openSessionFor(target, login, client, false);
  }

  /** A session of a client (byTa false) or of the TA whose UUID is `client` (byTa true). */
  private openSessionFor(target: { uuid?: Uint8Array; name?: string }, login: number, client: Uint8Array, byTa: boolean): Result {
    const rec = this.find(target);
    if (!rec) return fail(Status.ERROR_ITEM_NOT_FOUND, Origin.TEE, `no trusted app ${target.name ?? Buffer.from(target.uuid ?? []).toString('hex')} is loaded`);
    const id = this.nextSession++;
    const r = this.enter(rec, (host) => host.openSession(id, login >>> 0, client));
    if (typeof r !== 'number') return r;
    if (r !== Status.SUCCESS) return fail(r, Origin.TRUSTED_APP, `TA ${rec.image.name} refused the session: ${statusName(r)}`);
    this.sessions.set(id, { id, ta: rec, caller: login === Login.TRUSTED_APP ? client.slice() : null, byTa, dead: false });
    rec.sessions.add(id);
    return ok({ session: id });
  }

  /** A session the client API may use: one a client opened. A TA's session reads as unknown. */
  private clientSession(session: number): Session | undefined {
    const s = this.sessions.get(session);
    return s && !s.byTa ? s : undefined;
  }

  /** The client API's invoke: never a session a TA opened (issue 17 §9). */
  invoke(session: number, command: number, payload: Uint8Array, responseCapacity = 0): Result {
    const s = this.clientSession(session);
    if (!s) return fail(Status.ERROR_BAD_PARAMETERS, Origin.API, `no open session ${session}`);
    return this.invokeOn(s, session, command, payload, responseCapacity);
  }

  private invokeAny(session: number, command: number, payload: Uint8Array, responseCapacity = 0): Result {
    const s = this.sessions.get(session);
    if (!s) return fail(Status.ERROR_BAD_PARAMETERS, Origin.API, `no open session ${session}`);
    return this.invokeOn(s, session, command, payload, responseCapacity);
  }

  private invokeOn(s: Session, session: number, command: number, payload: Uint8Array, responseCapacity: number): Result {
    if (s.dead) return fail(Status.ERROR_TARGET_DEAD, Origin.TEE, `TA ${s.ta.image.name} died; open a new session`);
    if (s.ta.entry?.session === session) return fail(Status.ERROR_BUSY, Origin.TEE, `session ${session} has a command pending`);
    const r = this.enter(s.ta, (host) => host.invoke(session, command >>> 0, payload));
    return this.toResult(s.ta, r, responseCapacity);
  }

  /** A TA reply (or the runtime's failure) as the client sees it. */
  private toResult(rec: TaRecord, r: TaReply | Result, responseCapacity: number): Result {
    if (!('payload' in r) || r.payload === undefined) return r as Result;
    const reply = r as TaReply;
    if (reply.status === TUI_PENDING) {
      return fail(Status.ERROR_BAD_STATE, Origin.TEE, `TA ${rec.image.name} answered TUI_PENDING without a trusted-UI entry`);
    }
    if (reply.status === Status.ERROR_SHORT_BUFFER) {
      const needed = new DataView(reply.payload.buffer, reply.payload.byteOffset).getUint32(0, true);
      return fail(reply.status, Origin.TRUSTED_APP, `response needs ${needed} bytes`, { sizeNeeded: needed });
    }
    if (reply.status !== Status.SUCCESS) {
      return fail(reply.status, Origin.TRUSTED_APP, errorMessage(reply.payload, reply.status), { payload: reply.payload });
    }
    if (responseCapacity > 0 && reply.payload.length > responseCapacity) {
      return fail(Status.ERROR_SHORT_BUFFER, Origin.TRUSTED_APP, `response of ${reply.payload.length} bytes exceeds the ${responseCapacity}-byte buffer`, { sizeNeeded: reply.payload.length });
    }
    return { status: Status.SUCCESS, origin: Origin.TRUSTED_APP, message: '', payload: reply.payload };
  }

  /** A client's invoke that may wait for a person: when the TA begins a trusted-UI entry
   * (tui_begin, then TUI_PENDING), the answer comes when the TA finishes it. Everything else
   * answers as invoke() does. */
  invokeAsync(session: number, command: number, payload: Uint8Array, responseCapacity = 0): Promise<Result> {
    return Promise.resolve(this.invokeOrPending(session, command, payload, responseCapacity));
  }

  /** invokeAsync's work: the answer itself when the command did not start a trusted-UI entry
   * (every command of a runtime without a UI), a promise of it when it did. The driver hands a
   * ready answer back without a turn of the microtask queue. */
  invokeOrPending(session: number, command: number, payload: Uint8Array, responseCapacity = 0): Result | Promise<Result> {
    const s = this.clientSession(session);
    if (!s) return fail(Status.ERROR_BAD_PARAMETERS, Origin.API, `no open session ${session}`);
    if (s.dead || s.ta.entry?.session === session || !this.opts.ui) return this.invokeOn(s, session, command, payload, responseCapacity);
    const rec = s.ta;
    rec.tuiSession = session;
    rec.tuiBegun = null;
    let r: TaReply | Result;
    try {
      r = this.enter(rec, (host) => host.invoke(session, command >>> 0, payload));
    } finally {
      rec.tuiSession = null;
    }
    const begun = rec.tuiBegun as TaRecord['tuiBegun'];
    rec.tuiBegun = null;
    if (!begun || !('payload' in r) || r.payload === undefined || (r as TaReply).status !== TUI_PENDING) {
      return this.toResult(rec, r, responseCapacity);
    }
    return new Promise<Result>((resolve) => {
      const entry = new PendingEntry<Result>(rec.image.name, session, (kind, position) => {
        const e = this.enter(rec, (host) => host.tuiEvent(session, kind, position));
        if ('payload' in e && e.payload !== undefined && (e as TaReply).status === TUI_PENDING) return null;
        return this.toResult(rec, e, responseCapacity);
      }, (result) => {
        if (rec.entry === entry) rec.entry = null;
        resolve(result);
      });
      rec.entry = entry;
      try {
        entry.start(this.opts.ui!, begun.screen, begun.timeoutMs);
      } catch (e) {
        entry.abortNow(fail(Status.ERROR_GENERIC, Origin.TEE, `trusted UI failed: ${(e as Error).message}`));
      }
    });
  }

  /** GP TEEC_RequestCancellation: a pending entry of this session gets an ABORT event and ends
   * with the TA's own outcome (which answers the pending command). SUCCESS either way. */
  cancel(session: number): Result {
    const s = this.clientSession(session);
    if (!s) return fail(Status.ERROR_BAD_PARAMETERS, Origin.API, `no open session ${session}`);
    const entry = s.ta.entry;
    if (entry && entry.session === session) entry.push(trusttap.tee.v1.TuiEventKind.TUI_EVENT_ABORT);
    return ok();
  }

  /** The client API's close: never a session a TA opened (issue 17 §9). */
  closeSession(session: number): Result {
    if (!this.clientSession(session)) return fail(Status.ERROR_BAD_PARAMETERS, Origin.API, `no open session ${session}`);
    return this.closeAny(session);
  }

  private closeAny(session: number): Result {
    const s = this.sessions.get(session);
    if (!s) return fail(Status.ERROR_BAD_PARAMETERS, Origin.API, `no open session ${session}`);
    const entry = s.ta.entry;
    if (entry && entry.session === session && !s.ta.busy) {
      // The entry ends first, with the TA's outcome for an abort; the pending command gets it.
      entry.abortNow(fail(Status.ERROR_CANCEL, Origin.TEE, 'session closed during a trusted-UI entry'));
    }
    this.sessions.delete(session);
    s.ta.sessions.delete(session);
    if (s.dead || !s.ta.host) return ok();
    const r = this.enter(s.ta, (host) => host.closeSession(session));
    if (r && typeof r === 'object' && 'status' in r) return r;
    // GP: without keep-alive the instance is destroyed when its last session closes.
    if (this.opts.keepAlive === false && s.ta.sessions.size === 0 && s.ta.host && !s.ta.busy) {
      s.ta.host.destroy();
      s.ta.host = null;
    }
    return ok();
  }

  /** Closes every session and destroys every TA instance. */
  shutdown(): void {
    for (const id of [...this.sessions.keys()]) this.closeAny(id);
    for (const rec of this.byUuid.values()) {
      try { rec.host?.destroy(); } catch { /* ignore */ }
      rec.host = null;
    }
  }
}

/** The reason a TA gave with an error (ErrorDetail.message); a malformed detail is ignored. */
function errorMessage(payload: Uint8Array, status: number): string {
  try {
    const d = trusttap.tee.v1.ErrorDetail.decode(payload);
    if (d.message) return d.message;
  } catch { /* not an ErrorDetail */ }
  return statusName(status);
}
