// One live TA instance: a Wasm instance bound to its host services, driven through the TA ABI
// entry points. A trap or panic anywhere inside marks the instance dead; the runtime answers
// TARGET_DEAD and re-creates the TA on the next open (GP TEE Client API §4.4).
import { HostContext, type HostServices, TaPanic } from './abi/context.ts';
import { buildImports } from './abi/table.ts';
import type { TaExports, TuiTaExports } from './abi/ta-exports.ts';
import { Status } from '../proto/status.ts';

export interface TaReply {
  status: number;
  payload: Uint8Array;
}

export class TaDeadError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'TaDeadError';
  }
}

export class TaInstance {
  private ex!: TaExports;
  private readonly ctx: HostContext;
  dead: string | null = null;

  private constructor(readonly services: HostServices) {
    this.ctx = new HostContext(services);
  }

  /** Instantiates and runs TA_CreateEntryPoint. */
  static create(module: WebAssembly.Module, services: HostServices): { instance: TaInstance; status: number } {
    const ta = new TaInstance(services);
    const instance = new WebAssembly.Instance(module, buildImports(ta.ctx, module));
    ta.ex = instance.exports as unknown as TaExports;
    ta.ctx.memory = ta.ex.memory;
    const status = ta.guard(() => ta.ex.ta_create() >>> 0);
    return { instance: ta, status };
  }

  /** Calls into the TA; any trap kills the instance. */
  private guard<T>(fn: () => T): T {
    if (this.dead) throw new TaDeadError(this.dead);
    try {
      return fn();
    } catch (e) {
      this.dead = e instanceof TaPanic ? e.message : `trap: ${(e as Error).message}`;
      this.services.crypto.freeAll();
      this.services.sessions.closeAll();
      throw new TaDeadError(this.dead);
    }
  }

  private copyIn(input: Uint8Array): void {
    const cap = this.ex.io_cap() >>> 0;
    if (input.length > cap) throw new RangeError(`request of ${input.length} bytes exceeds the TA's ${cap}-byte input buffer`);
    new Uint8Array(this.ex.memory.buffer, this.ex.io_in() >>> 0, input.length).set(input);
  }

  get ioCapacity(): number {
    return this.ex.io_cap() >>> 0;
  }

  openSession(session: number, login: number, client: Uint8Array): number {
    return this.guard(() => {
      this.copyIn(client);
      return this.ex.ta_open_session(session, login, client.length) >>> 0;
    });
  }

  invoke(session: number, command: number, input: Uint8Array): TaReply {
    return this.invokeTa(session, command, input, true);
  }

  /** invoke(), with a successful reply's bytes left in the TA's output buffer: a view that is
   * valid only until the next call into this instance. For a caller that copies them at once
   * (the worker writes them to its channel): one copy fewer per command. */
  invokeInPlace(session: number, command: number, input: Uint8Array): TaReply {
    return this.invokeTa(session, command, input, false);
  }

  private invokeTa(session: number, command: number, input: Uint8Array, copyOut: boolean): TaReply {
    return this.guard(() => {
      if (input.length > this.ioCapacity) {
        return { status: Status.ERROR_EXCESS_DATA, payload: new Uint8Array(0) };
      }
      this.copyIn(input);
      return this.readReply(this.ex.ta_invoke(session, command, input.length) >>> 0, copyOut);
    });
  }

  /** A trusted-UI event for the TA's pending entry (ta_tui_event); the reply is read like
   * ta_invoke's. A TA without the export cannot have begun an entry (the loader checks). */
  tuiEvent(session: number, kind: number, position: number): TaReply {
    return this.guard(() => {
      const ex = this.ex as TaExports & Partial<TuiTaExports>;
      if (!ex.ta_tui_event) return { status: Status.ERROR_NOT_SUPPORTED, payload: new Uint8Array(0) };
      const status = ex.ta_tui_event(session, kind, position) >>> 0;
      return this.readReply(status);
    });
  }

  private readReply(status: number, copyOut = true): TaReply {
    const len = this.ex.ta_out_len() >>> 0;
    if (status === Status.ERROR_SHORT_BUFFER) return { status, payload: u32le(len) };
    if (len > this.ioCapacity) throw new TaPanic(`TA reported a ${len}-byte response beyond its output buffer`);
    const out = new Uint8Array(this.ex.memory.buffer, this.ex.io_out() >>> 0, len);
    // Copy out before anything else can grow (and detach) the memory or call the TA again.
    return { status, payload: copyOut ? out.slice() : out };
  }

  closeSession(session: number): void {
    this.guard(() => this.ex.ta_close_session(session));
  }

  destroy(): void {
    if (this.dead) return;
    try {
      this.guard(() => this.ex.ta_destroy());
    } catch { /* already marked dead */ }
    this.services.crypto.freeAll();
  }

  /** Test/bench hook: TA memory size in bytes. */
  get memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
