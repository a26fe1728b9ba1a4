// The TEE Client API for app developers, shaped like GlobalPlatform's (GPD_SPE_007):
// TEEC_InitializeContext → TeeContext.initialize, TEEC_OpenSession → openSession,
// TEEC_InvokeCommand → invoke, TEEC_CloseSession → close, TEEC_FinalizeContext → finalize.
// It reaches a TEE only through a TeeTransport that carries protobuf envelopes, so the same
// code drives the reference runtime in-process or a phone's TEE driver.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status, statusName, originName, Origin } from '../../proto/status.ts';
import { toHex } from '../../common/hex.ts';
import { encodeMessage } from '../../common/proto-encode.ts';
import type { TeeTransport } from '../../common/tee-transport.ts';

const v1 = trusttap.tee.v1;

export type { TeeTransport } from '../../common/tee-transport.ts';

/** A failed TEE call: GP status and origin, and what was wrong. */
export class TeeError extends Error {
  constructor(
    readonly status: number,
    readonly origin: number,
    readonly detail: string,
    readonly sizeNeeded?: number,
  ) {
    super(`${statusName(status)} from ${originName(origin)}${detail ? `: ${detail}` : ''}`);
    this.name = 'TeeError';
  }
  get statusName(): string { return statusName(this.status).split(' ')[0]; }
  get originName(): string { return originName(this.origin); }
}

/** protobufjs static message classes have this shape. */
export interface MessageType<T> {
  encode(message: any): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

export class TeeContext {
  private nextId = 1;
  private finalized = false;
  private readonly open = new Set<TeeSession>();

  private constructor(private readonly transport: TeeTransport) {}

  static async initialize(transport: TeeTransport): Promise<TeeContext> {
    return new TeeContext(transport);
  }

  /** Sends one envelope; a transport failure or garbled answer is a COMMS error. */
  request(body: Record<string, unknown>): Promise<InstanceType<typeof v1.ClientResponse>> {
    return this.send({ id: 0, ...body }, answerOf);
  }

  /** @internal A successful invoke's payload. The same as request(), one promise fewer: each
   * await on the client path is a turn of the microtask queue on every TEE call. */
  invokePayload(message: { id: number; invoke: Record<string, unknown> }): Promise<Uint8Array> {
    return this.send(message, payloadOf);
  }

  /** `message` is the envelope without its id: a fresh object, which this sets. */
  private async send<T>(message: { id: number }, pick: (res: InstanceType<typeof v1.ClientResponse>) => T): Promise<T> {
    if (this.finalized) throw new TeeError(Status.ERROR_BAD_STATE, Origin.API, 'context finalized');
    const id = this.nextId++;
    message.id = id;
    const bytes = encodeMessage(v1.ClientRequest, message);
    let answer: Uint8Array;
    try {
      answer = await this.transport.exchange(bytes);
    } catch (e) {
      throw new TeeError(Status.ERROR_COMMUNICATION, Origin.COMMS, `transport failed: ${(e as Error).message}`);
    }
    let res: InstanceType<typeof v1.ClientResponse>;
    try {
      res = v1.ClientResponse.decode(answer);
    } catch (e) {
      throw new TeeError(Status.ERROR_COMMUNICATION, Origin.COMMS, `malformed response from the TEE: ${(e as Error).message}`);
    }
    if (res.id !== id && res.id !== 0) throw new TeeError(Status.ERROR_COMMUNICATION, Origin.COMMS, `response ${res.id} does not answer request ${id}`);
    if (res.status !== Status.SUCCESS) {
      throw new TeeError(res.status, res.origin || Origin.COMMS, res.message, res.sizeNeeded || undefined);
    }
    return pick(res);
  }

  /** Opens a session to a TA by name or 16-byte UUID. */
  async openSession(ta: string | Uint8Array): Promise<TeeSession> {
    const target = typeof ta === 'string' ? { name: ta } : { uuid: ta };
    const res = await this.request({ openSession: { ...target, login: v1.Login.LOGIN_PUBLIC } });
    const s = new TeeSession(this, res.session, typeof ta === 'string' ? ta : toHex(ta).toLowerCase());
    this.open.add(s);
    return s;
  }

  /** @internal */
  forget(s: TeeSession): void {
    this.open.delete(s);
  }

  /** Closes what is still open, then refuses further use. */
  async finalize(): Promise<void> {
    for (const s of [...this.open]) await s.close().catch(() => undefined);
    this.finalized = true;
  }
}

const answerOf = (res: InstanceType<typeof v1.ClientResponse>) => res;
const payloadOf = (res: InstanceType<typeof v1.ClientResponse>) => res.payload;

export class TeeSession {
  private closed = false;
  constructor(private readonly ctx: TeeContext, readonly id: number, readonly ta: string) {}

  /** Raw invoke: request bytes in, response bytes out. */
  invoke(command: number, payload: Uint8Array = new Uint8Array(0), responseCapacity = 0): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new TeeError(Status.ERROR_BAD_STATE, Origin.API, 'session closed'));
    return this.ctx.invokePayload({ id: 0, invoke: { session: this.id, command, payload, responseCapacity } });
  }

  /** Typed invoke: encodes the request with its protobuf type and decodes the response. */
  async call<Res>(command: number, reqType: MessageType<unknown>, request: object, resType: MessageType<Res>): Promise<Res> {
    const bytes = await this.invoke(command, reqType.encode(request).finish());
    try {
      return resType.decode(bytes);
    } catch (e) {
      throw new TeeError(Status.ERROR_BAD_FORMAT, Origin.API, `response does not decode: ${(e as Error).message}`);
    }
  }

  /** PING: every TA answers with its name, version and ABI version. */
  async ping(): Promise<InstanceType<typeof v1.PingResponse>> {
    return this.call(v1.CommonCommand.COMMAND_PING, v1.PingRequest, {}, v1.PingResponse);
  }

  /** GP TEEC_RequestCancellation: asks the TEE to end this session's pending command (a PIN
   * entry on the trusted UI); that command then answers with the TA's own outcome. */
  async requestCancellation(): Promise<void> {
    if (this.closed) return;
    await this.ctx.request({ cancel: { session: this.id } });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctx.forget(this);
    await this.ctx.request({ closeSession: { session: this.id } });
  }
}
