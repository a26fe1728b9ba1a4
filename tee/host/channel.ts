// The synchronous call channel between the runtime thread and one TA worker: a
// SharedArrayBuffer with a state word driven by Atomics.wait/notify (ECMA-262 §25.4). The runtime
// writes a CALL and waits; the worker answers DONE, or asks the runtime for a TA-to-TA call
// (OUTCALL) and waits for OUTDONE. The message is a small header plus bytes. The state stays
// DONE after an answer until the next CALL. Each side spins briefly before it sleeps, and a side
// wakes the other (Atomics.notify) only when that one sleeps: on the quiet path a call costs two
// cache-line hand-overs between the cores and no system call.
export const State = { IDLE: 0, CALL: 1, DONE: 2, OUTCALL: 3, OUTDONE: 4, READY: 5, DEAD: 6 } as const;
export const Op = {
  CREATE: 1, OPEN: 2, INVOKE: 3, CLOSE: 4, DESTROY: 5, TUI_EVENT: 6,
  OUT_OPEN: 11, OUT_INVOKE: 12, OUT_CLOSE: 13, OUT_TUI_BEGIN: 14, OUT_TUI_UPDATE: 15,
  /** A boundary record made inside the worker (host calls), for the runtime's recorder. */
  OUT_RECORD: 16,
} as const;

/** Header word the runtime sets before each CALL: 1 while a boundary recorder is installed on
 *  its thread, so the worker records its host calls too (tee/abi/recorder.ts). */
const RECORDING_WORD = 21;

/** A boundary record as bytes for the channel: JSON header length (u32 LE), JSON header
 *  {channel, ta, what, numbers}, then the recorded bytes. Test-hook traffic only. */
export function encodeRecord(r: { channel: string; ta?: string; what?: string; numbers?: number[]; bytes?: Uint8Array }): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify({ channel: r.channel, ta: r.ta, what: r.what, numbers: r.numbers, hasBytes: !!r.bytes }));
  const body = r.bytes ?? new Uint8Array(0);
  const out = new Uint8Array(4 + head.length + body.length);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  out.set(body, 4 + head.length);
  return out;
}

export function decodeRecord(data: Uint8Array): { channel: string; ta?: string; what?: string; numbers?: number[]; bytes?: Uint8Array } {
  const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + n))) as { channel: string; ta?: string; what?: string; numbers?: number[]; hasBytes: boolean };
  const { hasBytes, ...rest } = head;
  return hasBytes ? { ...rest, bytes: data.slice(4 + n) } : rest;
}

// Layout, in 32-bit words. The state word and the sleeper count have a cache line of their own:
// the side that waits spins on that line, and writing the message beside it would pull the
// line back and forth between the cores once per field.
const STATE = 0;
const SLEEPERS = 1;
const OP = 16, A = 17, B = 18, C = 19, LEN = 20;
const HEADER_WORDS = 32;
const HEADER_BYTES = HEADER_WORDS * 4;
/** Loads of the state word before a side sleeps in Atomics.wait: tens of µs, longer than the
 * client path between two calls, so back-to-back calls never sleep (a futex wake-up costs more
 * than the whole call). */
const SPINS = 4000;
/** Room for a full 64 KiB TA buffer plus the request header and some slack. */
export const CHANNEL_BYTES = HEADER_BYTES + 80 * 1024;

/** A zero-length payload; shared, since nothing can be written to it. */
export const EMPTY = new Uint8Array(0);

export class Channel {
  readonly ctrl: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(readonly sab: SharedArrayBuffer) {
    this.ctrl = new Int32Array(sab, 0, HEADER_WORDS);
    this.bytes = new Uint8Array(sab, HEADER_BYTES);
  }

  static create(): Channel {
    return new Channel(new SharedArrayBuffer(CHANNEL_BYTES));
  }

  get state(): number {
    return Atomics.load(this.ctrl, STATE);
  }

  /** Writes a message and moves to `state`, waking the other side if it sleeps. */
  post(state: number, op: number, a: number, b: number, c: number, data: Uint8Array): void {
    if (data.length > this.bytes.length) throw new RangeError(`channel message of ${data.length} bytes too large`);
    const ctrl = this.ctrl;
    ctrl[OP] = op;
    ctrl[A] = a;
    ctrl[B] = b;
    ctrl[C] = c;
    ctrl[LEN] = data.length;
    if (data.length) this.bytes.set(data, 0);
    this.setState(state);
  }

  /** Moves to `state`. Atomics.notify only when the other side sleeps: a side counts itself in
   * SLEEPERS before Atomics.wait, and both steps are sequentially consistent, so either this
   * load sees the sleeper or the sleeper's Atomics.wait sees the new state and does not sleep. */
  setState(state: number): void {
    Atomics.store(this.ctrl, STATE, state);
    if (Atomics.load(this.ctrl, SLEEPERS) !== 0) Atomics.notify(this.ctrl, STATE);
  }

  /** Moves to `state` without waking anyone: for a change the other side does not wait for
   * (the worker, back from an outcall, returns the channel to CALL). */
  restore(state: number): void {
    Atomics.store(this.ctrl, STATE, state);
  }

  /** How many threads sleep in Atomics.wait on this channel now (0 or 1; for tests). */
  get sleepers(): number {
    return Atomics.load(this.ctrl, SLEEPERS);
  }

  /** The current message's header words. */
  get op(): number { return this.ctrl[OP]; }
  get a(): number { return this.ctrl[A]; }
  get b(): number { return this.ctrl[B]; }
  get c(): number { return this.ctrl[C]; }

  /** A copy of the current message's bytes. */
  data(): Uint8Array {
    return this.bytes.slice(0, this.ctrl[LEN]);
  }

  /** The current message's bytes in place: valid only until this side posts (the other side
   * waits until then), so read them before anything that can post, such as an outcall. */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.ctrl[LEN]);
  }

  /** Sets the recording word the worker reads with each CALL. */
  set recording(on: boolean) {
    Atomics.store(this.ctrl, RECORDING_WORD, on ? 1 : 0);
  }

  get recording(): boolean {
    return Atomics.load(this.ctrl, RECORDING_WORD) !== 0;
  }

  /** Loads the state up to SPINS times while it equals `from`; returns the last state read. */
  spin(from: number): number {
    const ctrl = this.ctrl;
    for (let i = 0; i < SPINS; i++) {
      const s = Atomics.load(ctrl, STATE);
      if (s !== from) return s;
    }
    return from;
  }

  /** Sleeps while the state equals `from`; returns the new state, or null on timeout. */
  sleep(from: number, timeoutMs: number): number | null {
    Atomics.add(this.ctrl, SLEEPERS, 1);
    const r = Atomics.wait(this.ctrl, STATE, from, timeoutMs);
    Atomics.sub(this.ctrl, SLEEPERS, 1);
    return r === 'timed-out' ? null : this.state;
  }

  /** Blocks while the state equals `from`; returns the new state, or null on timeout. A short
   * spin first: most TA commands finish in microseconds, faster than a futex wake-up. */
  waitWhile(from: number, timeoutMs: number): number | null {
    const s = this.spin(from);
    return s !== from ? s : this.sleep(from, timeoutMs);
  }
}
