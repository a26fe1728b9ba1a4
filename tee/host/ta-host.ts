// How the runtime drives one TA instance, whatever isolates it: in this thread
// (in-process.ts) or in a worker of its own (worker.ts). Calls are synchronous; a dead
// instance throws TaDeadError from every call.
import type { TaReply } from '../instance.ts';

export interface TaHost {
  readonly dead: string | null;
  create(): number;
  openSession(session: number, login: number, client: Uint8Array): number;
  invoke(session: number, command: number, input: Uint8Array): TaReply;
  closeSession(session: number): void;
  /** A trusted-UI event for the TA's pending entry (ta_tui_event). */
  tuiEvent(session: number, kind: number, position: number): TaReply;
  destroy(): void;
}

/** What a TA may ask of the runtime while it runs (TEE_OpenTASession & co). */
export interface OutcallRouter {
  open(caller: Uint8Array, callee: Uint8Array): number;
  invoke(caller: Uint8Array, session: number, command: number, input: Uint8Array, outCap: number): TaReply;
  close(caller: Uint8Array, session: number): void;
  /** Trusted UI (host functions tui_begin / tui_update of a TA in a worker). */
  tuiBegin(caller: Uint8Array, screen: Uint8Array, timeoutMs: number): number;
  tuiUpdate(caller: Uint8Array, screen: Uint8Array): number;
}
