// Test hook: every byte that crosses a TA boundary on this thread, for the PIN leak harness
// (test/pinpad/leak.test.ts). Off unless a test installs a recorder; then the runtime reports
// client envelopes, TA-to-TA payloads, host-ABI calls with the bytes they read from and write to
// TA memory, trusted-UI screens and events, and the worker channel's messages. In worker
// isolation the host calls happen in the worker: it records them while the runtime's thread
// has a recorder (a flag on the channel) and forwards them as OUT_RECORD outcalls.
export type BoundaryChannel =
  | 'client-request' | 'client-response'
  | 'ta-call' | 'ta-reply'
  | 'host-call' | 'host-read' | 'host-write'
  | 'tui-screen' | 'tui-event'
  | 'worker-call' | 'worker-reply' | 'worker-outcall' | 'worker-outreply';

export interface BoundaryRecord {
  channel: BoundaryChannel;
  /** The TA concerned, when one is. */
  ta?: string;
  /** Host function, TA-to-TA command or envelope op. */
  what?: string;
  bytes?: Uint8Array;
  numbers?: number[];
}

let sink: ((r: BoundaryRecord) => void) | null = null;

export function setBoundaryRecorder(fn: ((r: BoundaryRecord) => void) | null): void {
  sink = fn;
}

export function recording(): boolean {
  return sink !== null;
}

/** Copies the bytes: the recorder keeps what crossed, not a live view. */
export function recordBoundary(r: BoundaryRecord): void {
  if (!sink) return;
  sink(r.bytes ? { ...r, bytes: r.bytes.slice() } : r);
}
