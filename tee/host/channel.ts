// The synchronous call channel between the runtime thread and one TA worker: a
// SharedArrayBuffer with a state word driven by Atomics.wait/notify. The runtime writes a CALL
// and waits; the worker answers DONE, or asks the runtime for a TA-to-TA call (OUTCALL) and
// waits for OUTDONE. The message is a small header plus bytes.
export const State = { IDLE: 0, CALL: 1, DONE: 2, OUTCALL: 3, OUTDONE: 4, READY: 5, DEAD: 6 } as const;
export const Op = {
  CREATE: 1, OPEN: 2, INVOKE: 3, CLOSE: 4, DESTROY: 5, TUI_EVENT: 6,
  OUT_OPEN: 11, OUT_INVOKE: 12, OUT_CLOSE: 13, OUT_TUI_BEGIN: 14, OUT_TUI_UPDATE: 15,
  /** A boundary record made inside the worker (host calls), for the runtime's recorder. */
  OUT_RECORD: 16,
} as const;

/** Header word the runtime sets before each CALL: 1 while a boundary recorder is installed on
 *  its thread, so the worker records its host calls too (tee/abi/recorder.ts). */
export const RECORDING_WORD = 6;

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

const HEADER_WORDS = 8;
const HEADER_BYTES = HEADER_WORDS * 4;
/** Room for a full 64 KiB TA buffer plus the request header and some slack. */
const SPINS = 4000;
export const CHANNEL_BYTES = HEADER_BYTES + 80 * 1024;

export interface Message {
  op: number;
  a: number;
  b: number;
  c: number;
  data: Uint8Array;
}

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
    return Atomics.load(this.ctrl, 0);
  }

  /** Writes a message and moves to `state`, waking the other side. */
  post(state: number, m: Message): void {
    if (m.data.length > this.bytes.length) throw new RangeError(`channel message of ${m.data.length} bytes too large`);
    this.ctrl[1] = m.op;
    this.ctrl[2] = m.a;
    this.ctrl[3] = m.b;
    this.ctrl[4] = m.c;
    this.ctrl[5] = m.data.length;
    this.bytes.set(m.data, 0);
    this.setState(state);
  }

  setState(state: number): void {
    Atomics.store(this.ctrl, 0, state);
    Atomics.notify(this.ctrl, 0);
  }

  read(): Message {
    const len = this.ctrl[5];
    return { op: this.ctrl[1], a: this.ctrl[2], b: this.ctrl[3], c: this.ctrl[4], data: this.bytes.slice(0, len) };
  }

  /** Blocks while the state equals `from`; returns the new state, or null on timeout. A short
   * spin first: most TA commands finish in microseconds, faster than a futex wake-up. */
  waitWhile(from: number, timeoutMs: number): number | null {
    for (let i = 0; i < SPINS; i++) {
      const s = Atomics.load(this.ctrl, 0);
      if (s !== from) return s;
    }
    const r = Atomics.wait(this.ctrl, 0, from, timeoutMs);
    if (r === 'timed-out') return null;
    return this.state;
  }
}
