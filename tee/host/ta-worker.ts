// The worker side of worker isolation: one TA instance with its host services in a thread of
// its own. It serves CALLs from the channel until the runtime terminates it. TA-to-TA calls go
// back to the runtime as OUTCALLs, since only the runtime knows the other TAs.
import { workerData } from 'node:worker_threads';
import { Channel, Op, State, EMPTY, encodeRecord } from './channel.ts';
import { setBoundaryRecorder } from '../abi/recorder.ts';
import { TaInstance, TaDeadError } from '../instance.ts';
import { createServices, type DeviceAttestation } from '../services.ts';
import { Huk } from '../huk.ts';
import type { TaSessions } from '../abi/context.ts';
import { Status } from '../../proto/status.ts';

interface WorkerInit {
  sab: SharedArrayBuffer;
  module: WebAssembly.Module;
  name: string;
  uuid: Uint8Array;
  storageDir: string;
  rpmbPath: string;
  huk: Uint8Array;
  debug: boolean;
  attestation?: DeviceAttestation;
}

const init = workerData as WorkerInit;
const ch = new Channel(init.sab);
const enc = (n: number) => n | 0;

/** A request to the runtime while a CALL runs; the answer's status word and a copy of its bytes. */
function outcall(op: number, a: number, b: number, c: number, data: Uint8Array): { a: number; data: Uint8Array } {
  ch.post(State.OUTCALL, op, a, b, c, data);
  let s: number | null;
  while ((s = ch.state) === State.OUTCALL) ch.waitWhile(s, 1000);
  const r = { a: ch.a, data: ch.data() };
  // The runtime's call is still in progress: the channel returns to CALL.
  ch.restore(State.CALL);
  return r;
}

const opened = new Set<number>();
const sessions: TaSessions = {
  open(callee) {
    const r = outcall(Op.OUT_OPEN, 0, 0, 0, callee);
    if (r.a >= 0) opened.add(r.a);
    return r.a;
  },
  invoke(session, command, input, outCap) {
    const r = outcall(Op.OUT_INVOKE, session, command, outCap, input);
    return { status: r.a >>> 0, payload: r.data };
  },
  close(session) {
    opened.delete(session);
    outcall(Op.OUT_CLOSE, session, 0, 0, EMPTY);
  },
  closeAll() {
    for (const s of [...opened]) sessions.close(s);
  },
};

const services = createServices(
  { name: init.name, uuid: init.uuid },
  { storageDir: init.storageDir, rpmbPath: init.rpmbPath, huk: Huk.fromBytes(init.huk), log: init.debug ? (ta, l) => console.error(`[${ta}] ${l}`) : undefined, attestation: init.attestation },
  sessions,
);
// The trusted UI lives with the runtime: screens go there as outcalls, events come back as calls.
services.tui = {
  begin: (screen, timeoutMs) => outcall(Op.OUT_TUI_BEGIN, timeoutMs | 0, 0, 0, screen).a >>> 0,
  update: (screen) => outcall(Op.OUT_TUI_UPDATE, 0, 0, 0, screen).a >>> 0,
};
init.huk.fill(0);

let ta: TaInstance | null = null;

/** While the runtime records (leak harness), host-ABI records made here go to it, in order,
 *  as synchronous outcalls; otherwise nothing is recorded and nothing is sent. */
const forwardRecord = (r: Parameters<typeof encodeRecord>[0]) => { outcall(Op.OUT_RECORD, 0, 0, 0, encodeRecord(r)); };

function serve(): void {
  const op = ch.op, a = ch.a, b = ch.b, c = ch.c;
  setBoundaryRecorder(ch.recording ? forwardRecord : null);
  try {
    let status = 0;
    let data: Uint8Array = EMPTY;
    switch (op) {
      case Op.CREATE: {
        const r = TaInstance.create(init.module, services);
        ta = r.instance;
        status = r.status;
        break;
      }
      // The request's bytes are read in place: the runtime waits until this side posts, and the
      // instance copies them into the TA's memory before the TA runs (and can make outcalls).
      case Op.OPEN: status = ta!.openSession(a, b, ch.view()); break;
      case Op.INVOKE: {
        // The reply in place in the TA's memory: posted (copied) before anything calls the TA again.
        const r = ta!.invokeInPlace(a, b, ch.view());
        status = r.status;
        data = r.payload;
        break;
      }
      case Op.CLOSE: ta!.closeSession(a); break;
      case Op.TUI_EVENT: {
        const r = ta!.tuiEvent(a, b, c);
        status = r.status;
        data = r.payload;
        break;
      }
      case Op.DESTROY: ta?.destroy(); ta = null; break;
      default: status = Status.ERROR_BAD_PARAMETERS;
    }
    ch.post(State.DONE, op, enc(status), 0, 0, data);
  } catch (e) {
    const reason = e instanceof TaDeadError ? e.message : `trap: ${(e as Error).message}`;
    ch.post(State.DEAD, op, enc(Status.ERROR_TARGET_DEAD), 0, 0, new TextEncoder().encode(reason));
  }
}

ch.setState(State.READY);
for (;;) {
  // Wait for the next CALL (after an answer the state stays DONE until the runtime posts one).
  // Read the state once per check: waiting on a second read could sleep through a CALL.
  let s: number;
  while ((s = ch.state) !== State.CALL) ch.waitWhile(s, 60_000);
  serve();
}
