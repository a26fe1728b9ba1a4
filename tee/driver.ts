// The TEE side of the client transport: decodes one ClientRequest envelope, runs it on the
// runtime, encodes the ClientResponse. On a phone the same bytes cross the TEE driver; here
// `InProcessTeeDriver` hands them over in memory and implements common/tee-transport.ts TeeTransport.
import { trusttap } from '../proto/gen/ts/trusttap.js';
import { Status, Origin } from '../proto/status.ts';
import type { Result, TeeRuntime } from './runtime.ts';
import { recordBoundary, recording } from './abi/recorder.ts';
import type { TeeTransport } from '../common/tee-transport.ts';

const v1 = trusttap.tee.v1;
/** Largest response a client may receive (the TA output buffer). */
export const MAX_RESPONSE = 64 * 1024;

function encode(id: number, r: Result): Uint8Array {
  return v1.ClientResponse.encode({
    id, status: r.status >>> 0, origin: r.origin, session: r.session ?? 0,
    payload: r.status === Status.SUCCESS ? r.payload ?? new Uint8Array(0) : new Uint8Array(0),
    sizeNeeded: r.sizeNeeded ?? 0, message: r.message,
  }).finish();
}

export function handleClientRequest(runtime: TeeRuntime, bytes: Uint8Array): Uint8Array {
  let req: InstanceType<typeof v1.ClientRequest>;
  try {
    req = v1.ClientRequest.decode(bytes);
  } catch (e) {
    return encode(0, { status: Status.ERROR_BAD_FORMAT, origin: Origin.COMMS, message: `malformed ClientRequest: ${(e as Error).message}` });
  }
  const id = req.id;
  switch (req.op) {
    case 'openSession': {
      const o = req.openSession!;
      return encode(id, runtime.openSession(o.uuid?.length ? { uuid: o.uuid } : { name: o.name ?? '' }, o.login ?? 0));
    }
    case 'invoke': {
      const i = req.invoke!;
      const cap = i.responseCapacity || MAX_RESPONSE;
      return encode(id, runtime.invoke(i.session ?? 0, i.command ?? 0, i.payload ?? new Uint8Array(0), Math.min(cap, MAX_RESPONSE)));
    }
    case 'closeSession':
      return encode(id, runtime.closeSession(req.closeSession!.session ?? 0));
    case 'cancel':
      return encode(id, runtime.cancel(req.cancel!.session ?? 0));
  }
  return encode(id, { status: Status.ERROR_BAD_PARAMETERS, origin: Origin.COMMS, message: 'ClientRequest names no operation' });
}

/** The same, for transports that can wait: an invoke that starts a trusted-UI entry (a PIN
 * entry) is answered when the TA finishes it, while other requests (a Cancel) go on. */
export async function handleClientRequestAsync(runtime: TeeRuntime, bytes: Uint8Array): Promise<Uint8Array> {
  if (recording()) recordBoundary({ channel: 'client-request', bytes });
  let out: Uint8Array;
  let req: InstanceType<typeof v1.ClientRequest> | null = null;
  try {
    req = v1.ClientRequest.decode(bytes);
  } catch { /* handleClientRequest answers it */ }
  if (req && req.op === 'invoke') {
    const i = req.invoke!;
    const cap = i.responseCapacity || MAX_RESPONSE;
    out = encode(req.id, await runtime.invokeAsync(i.session ?? 0, i.command ?? 0, i.payload ?? new Uint8Array(0), Math.min(cap, MAX_RESPONSE)));
  } else {
    out = handleClientRequest(runtime, bytes);
  }
  if (recording()) recordBoundary({ channel: 'client-response', bytes: out });
  return out;
}

/** An in-memory driver: the reference runtime in the same process as the client. */
export class InProcessTeeDriver implements TeeTransport {
  constructor(readonly runtime: TeeRuntime) {}
  async exchange(request: Uint8Array): Promise<Uint8Array> {
    return handleClientRequestAsync(this.runtime, request);
  }
  /** Synchronous form, for benchmarks of the bare path. */
  exchangeSync(request: Uint8Array): Uint8Array {
    return handleClientRequest(this.runtime, request);
  }
}
