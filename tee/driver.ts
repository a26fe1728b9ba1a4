// The TEE side of the client transport: decodes one ClientRequest envelope, runs it on the
// runtime, encodes the ClientResponse. On a phone the same bytes cross the TEE driver; here
// `InProcessTeeDriver` hands them over in memory and implements common/tee-transport.ts TeeTransport.
import { trusttap } from '../proto/gen/ts/trusttap.js';
import { Status, Origin } from '../proto/status.ts';
import type { Result, TeeRuntime } from './runtime.ts';
import { recordBoundary, recording } from './abi/recorder.ts';
import type { TeeTransport } from '../common/tee-transport.ts';
import { encodeMessage } from '../common/proto-encode.ts';

const v1 = trusttap.tee.v1;
/** Largest response a client may receive (the TA output buffer). */
export const MAX_RESPONSE = 64 * 1024;
const EMPTY = new Uint8Array(0);

function encode(id: number, r: Result): Uint8Array {
  return encodeMessage(v1.ClientResponse, {
    id, status: r.status >>> 0, origin: r.origin, session: r.session ?? 0,
    payload: r.status === Status.SUCCESS ? r.payload ?? EMPTY : EMPTY,
    sizeNeeded: r.sizeNeeded ?? 0, message: r.message,
  });
}

export function handleClientRequest(runtime: TeeRuntime, bytes: Uint8Array): Uint8Array {
  let req: InstanceType<typeof v1.ClientRequest>;
  try {
    req = v1.ClientRequest.decode(bytes);
  } catch (e) {
    return encode(0, { status: Status.ERROR_BAD_FORMAT, origin: Origin.COMMS, message: `malformed ClientRequest: ${(e as Error).message}` });
  }
  return answer(runtime, req);
}

function answer(runtime: TeeRuntime, req: InstanceType<typeof v1.ClientRequest>): Uint8Array {
  const id = req.id;
  switch (req.op) {
    case 'openSession': {
      const o = req.openSession!;
      return encode(id, runtime.openSession(o.uuid?.length ? { uuid: o.uuid } : { name: o.name ?? '' }, o.login ?? 0));
    }
    case 'invoke': {
      const i = req.invoke!;
      return encode(id, runtime.invoke(i.session ?? 0, i.command ?? 0, i.payload ?? new Uint8Array(0), capacity(i.responseCapacity)));
    }
    case 'closeSession':
      return encode(id, runtime.closeSession(req.closeSession!.session ?? 0));
    case 'cancel':
      return encode(id, runtime.cancel(req.cancel!.session ?? 0));
  }
  return encode(id, { status: Status.ERROR_BAD_PARAMETERS, origin: Origin.COMMS, message: 'ClientRequest names no operation' });
}

/** The client's response buffer, at most MAX_RESPONSE (0: as large as allowed). */
const capacity = (requested: number | null | undefined) => Math.min(requested || MAX_RESPONSE, MAX_RESPONSE);

/** The same, for transports that can wait: an invoke that starts a trusted-UI entry (a PIN
 * entry) is answered when the TA finishes it, while other requests (a Cancel) go on. Any other
 * answer is ready when this returns (a settled promise: no turn of the microtask queue is spent
 * before the client can read it). */
export function handleClientRequestAsync(runtime: TeeRuntime, bytes: Uint8Array): Promise<Uint8Array> {
  try {
    if (recording()) recordBoundary({ channel: 'client-request', bytes });
    let req: InstanceType<typeof v1.ClientRequest>;
    try {
      req = v1.ClientRequest.decode(bytes);
    } catch {
      return Promise.resolve(answered(handleClientRequest(runtime, bytes)));
    }
    if (req.op !== 'invoke') return Promise.resolve(answered(answer(runtime, req)));
    const i = req.invoke!;
    const id = req.id;
    const r = runtime.invokeOrPending(i.session ?? 0, i.command ?? 0, i.payload ?? new Uint8Array(0), capacity(i.responseCapacity));
    if (r instanceof Promise) return r.then((done) => answered(encode(id, done)));
    return Promise.resolve(answered(encode(id, r)));
  } catch (e) {
    return Promise.reject(e);
  }
}

function answered(out: Uint8Array): Uint8Array {
  if (recording()) recordBoundary({ channel: 'client-response', bytes: out });
  return out;
}

/** An in-memory driver: the reference runtime in the same process as the client. */
export class InProcessTeeDriver implements TeeTransport {
  constructor(readonly runtime: TeeRuntime) {}
  exchange(request: Uint8Array): Promise<Uint8Array> {
    return handleClientRequestAsync(this.runtime, request);
  }
  /** Synchronous form, for benchmarks of the bare path. */
  exchangeSync(request: Uint8Array): Uint8Array {
    return handleClientRequest(this.runtime, request);
  }
}
