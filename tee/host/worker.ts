// Worker isolation: each TA instance in a worker thread of its own, driven synchronously over a
// SharedArrayBuffer channel. A watchdog bounds every call: a TA that runs past its time budget
// is terminated and reported dead (TARGET_DEAD), and the next open re-creates it. Worker
// resourceLimits cap the JS heap only; Wasm memory is capped by the TA's declared maximum.
import { Worker } from 'node:worker_threads';
import { Channel, Op, State, EMPTY, decodeRecord } from './channel.ts';
import type { OutcallRouter, TaHost } from './ta-host.ts';
import { TaDeadError, type TaReply } from '../instance.ts';
import { Status } from '../../proto/status.ts';
import type { DeviceAttestation } from '../services.ts';
import { recordBoundary, recording, type BoundaryRecord } from '../abi/recorder.ts';

export interface WorkerHostOptions {
  module: WebAssembly.Module;
  name: string;
  uuid: Uint8Array;
  storageDir: string;
  rpmbPath: string;
  huk: Uint8Array;
  timeBudgetMs: number;
  router: OutcallRouter;
  debug?: boolean;
  /** The runtime's measurements and OEM key (plain data, cloned into the worker). */
  attestation?: DeviceAttestation;
}

const workerUrl = new URL('./ta-worker-boot.mjs', import.meta.url);
const BOOT_TIMEOUT_MS = 30_000;

export class WorkerTaHost implements TaHost {
  private worker: Worker | null = null;
  private ch: Channel | null = null;
  private deadReason: string | null = null;

  constructor(private readonly opts: WorkerHostOptions) {}

  get dead(): string | null {
    return this.deadReason;
  }

  private kill(reason: string): never {
    this.deadReason = reason;
    void this.worker?.terminate();
    this.worker = null;
    throw new TaDeadError(reason);
  }

  create(): number {
    const ch = Channel.create();
    this.ch = ch;
    this.worker = new Worker(workerUrl, {
      workerData: {
        sab: ch.sab, module: this.opts.module, name: this.opts.name, uuid: this.opts.uuid,
        storageDir: this.opts.storageDir, rpmbPath: this.opts.rpmbPath, huk: this.opts.huk, debug: !!this.opts.debug, attestation: this.opts.attestation,
      },
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    this.worker.on('error', (e) => { this.deadReason ??= `worker error: ${e.message}`; });
    this.worker.unref();
    if (ch.waitWhile(State.IDLE, BOOT_TIMEOUT_MS) !== State.READY) this.kill('TA worker did not start');
    // Instantiation and TA_CreateEntryPoint get the boot allowance, not the per-command budget.
    return this.call(Op.CREATE, 0, 0, 0, EMPTY, BOOT_TIMEOUT_MS).status;
  }

  /** One synchronous call, serving the TA's outcalls while it runs. */
  private call(op: number, a: number, b: number, c: number, data: Uint8Array, budgetMs = this.opts.timeBudgetMs): TaReply {
    const ch = this.ch;
    if (!ch || !this.worker || this.deadReason) throw new TaDeadError(this.deadReason ?? 'TA not created');
    const rec = recording();
    if (rec) recordBoundary({ channel: 'worker-call', ta: this.opts.name, what: `op ${op}`, numbers: [a, b, c], bytes: data });
    // The worker records its host calls (as the in-process runtime does) while a recorder is on.
    ch.recording = rec;
    let deadline = performance.now() + budgetMs;
    ch.post(State.CALL, op, a, b, c, data);
    // The state stays DONE after the answer is read: the worker waits for the next CALL either way.
    let state: number = State.CALL;
    for (;;) {
      if (state === State.DONE) {
        const status = ch.a >>> 0;
        const payload = ch.data();
        if (recording()) recordBoundary({ channel: 'worker-reply', ta: this.opts.name, what: `op ${op}`, numbers: [ch.a], bytes: payload });
        return { status, payload };
      }
      if (state === State.DEAD) {
        this.kill(new TextDecoder().decode(ch.data()));
      }
      if (state === State.OUTCALL) {
        const started = performance.now();
        this.serveOutcall(ch);
        deadline += performance.now() - started; // the callee's time is its own budget
        state = ch.state;
        continue;
      }
      // Still running (CALL, or OUTDONE until the worker reads it): spin, then sleep until the
      // deadline; the watchdog ends a TA that is still running then.
      const next = ch.spin(state);
      if (next !== state) {
        state = next;
        continue;
      }
      const left = deadline - performance.now();
      if ((left <= 0 || ch.sleep(state, left) === null) && ch.state === state) this.kill(`TA exceeded its time budget of ${budgetMs} ms`);
      state = ch.state;
    }
  }

  private serveOutcall(ch: Channel): void {
    const op = ch.op;
    if (op === Op.OUT_RECORD) {
      // A host call recorded inside the worker: to this thread's recorder, not a TA's outcall.
      recordBoundary(decodeRecord(ch.view()) as BoundaryRecord);
      ch.post(State.OUTDONE, op, 0, 0, 0, EMPTY);
      return;
    }
    const ma = ch.a, mb = ch.b, mc = ch.c;
    // A copy: the router runs other TAs, and a nested worker call must not see these bytes change.
    const input = ch.data();
    const { router, uuid } = this.opts;
    if (recording()) recordBoundary({ channel: 'worker-outcall', ta: this.opts.name, what: `op ${op}`, numbers: [ma, mb, mc], bytes: input });
    let a = 0;
    let data: Uint8Array = EMPTY;
    try {
      if (op === Op.OUT_OPEN) a = router.open(uuid, input);
      else if (op === Op.OUT_INVOKE) {
        const r = router.invoke(uuid, ma, mb >>> 0, input, mc >>> 0);
        a = r.status | 0;
        data = r.payload;
      } else if (op === Op.OUT_CLOSE) router.close(uuid, ma);
      else if (op === Op.OUT_TUI_BEGIN) a = router.tuiBegin(uuid, input, ma >>> 0) | 0;
      else if (op === Op.OUT_TUI_UPDATE) a = router.tuiUpdate(uuid, input) | 0;
      else a = Status.ERROR_BAD_PARAMETERS | 0;
    } catch {
      a = Status.ERROR_GENERIC | 0;
    }
    if (recording()) recordBoundary({ channel: 'worker-outreply', ta: this.opts.name, what: `op ${op}`, numbers: [a], bytes: data });
    ch.post(State.OUTDONE, op, a, 0, 0, data);
  }

  openSession(session: number, login: number, client: Uint8Array): number {
    return this.call(Op.OPEN, session, login, 0, client).status;
  }

  invoke(session: number, command: number, input: Uint8Array): TaReply {
    return this.call(Op.INVOKE, session, command, 0, input);
  }

  closeSession(session: number): void {
    this.call(Op.CLOSE, session, 0, 0, EMPTY);
  }

  tuiEvent(session: number, kind: number, position: number): TaReply {
    return this.call(Op.TUI_EVENT, session, kind, position, EMPTY);
  }

  destroy(): void {
    if (this.worker && !this.deadReason) {
      try { this.call(Op.DESTROY, 0, 0, 0, EMPTY); } catch { /* dead already */ }
    }
    void this.worker?.terminate();
    this.worker = null;
  }
}
