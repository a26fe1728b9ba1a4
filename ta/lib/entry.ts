// TA ABI v1, the trusted-app side (tee/abi/ta-exports.ts is the host side): the GlobalPlatform
// entry points over static I/O buffers. A TA's index.ts registers its TrustedApp and
// re-exports these functions. Command 0 (PING) is answered here for every TA.
import { PingResponse, ErrorDetail } from "../../proto/gen/as/tee";
import { SUCCESS, ERROR_BAD_PARAMETERS, ERROR_SHORT_BUFFER, ERROR_BAD_STATE, ERROR_ACCESS_DENIED } from "./status";
import "./text";

export const TA_ABI_VERSION: u32 = 1;
export const IO_CAP: u32 = 64 * 1024;
export const COMMAND_PING: u32 = 0;
/** GP TEE_LOGIN_TRUSTED_APP: the session was opened by another TA (client = its UUID). */
export const LOGIN_TRUSTED_APP: u32 = 0xf0000000;
/** A command that began a trusted-UI entry stays pending (tee/abi/ta-exports.ts TUI_PENDING). */
export const TUI_PENDING: u32 = 1;

const ioIn = memory.data(<i32>IO_CAP, 16);
const ioOut = memory.data(<i32>IO_CAP, 16);
let outLen: u32 = 0;

/** What a command handler answers: a response message, or a status with a reason. */
export class Reply {
  status: u32 = SUCCESS;
  data: Uint8Array = new Uint8Array(0);
  message: string = "";

  ok(data: Uint8Array): void {
    this.status = SUCCESS;
    this.data = data;
  }

  /** The message goes to the REE: it must never contain key material or PIN data. */
  fail(status: u32, message: string): void {
    this.status = status;
    this.message = message;
  }

  /** After host tui_begin: the command is answered later, from TrustedApp.tuiEvent. */
  pending(): void {
    this.status = TUI_PENDING;
    this.data = new Uint8Array(0);
  }
}

/** The client of a session: how it logged in and, for TA clients, the caller's UUID. */
export class Client {
  constructor(public login: u32, public identity: Uint8Array) {}
  isTa(uuid: Uint8Array): bool {
    if (this.login != LOGIN_TRUSTED_APP || this.identity.length != uuid.length) return false;
    for (let i = 0; i < uuid.length; i++) if (this.identity[i] != uuid[i]) return false;
    return true;
  }
}

export abstract class TrustedApp {
  constructor(public name: string, public version: string, public uuid: Uint8Array) {}
  /** TA_CreateEntryPoint: once per instance. */
  create(): u32 { return SUCCESS; }
  /** TA_OpenSessionEntryPoint: may refuse a client. */
  openSession(session: u32, client: Client): u32 { return SUCCESS; }
  /** TA_InvokeCommandEntryPoint for every command but PING. */
  abstract invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void;
  closeSession(session: u32): void {}
  destroy(): void {}
  /** A trusted-UI event (kind: host.TUI_EVENT_*) for the entry this session's command began:
   * reply.pending() to go on, anything else answers the pending command. Only TAs that import
   * the TUI host functions (and re-export ta_tui_event) receive it. */
  tuiEvent(session: u32, kind: u32, position: u32, reply: Reply): void {
    reply.fail(ERROR_BAD_STATE, "this TA has no trusted-UI entry");
  }
}

let app: TrustedApp | null = null;
const sessions = new Map<u32, Client>();

// Memory: TAs are built with AssemblyScript's two-colour collector (asconfig.json runtime
// "minimal"), which only collects when asked and sees globals alone as roots, so it must run when
// no managed value is live on the Wasm stack: here, as an entry point returns. `depth` keeps that
// true even for a host that re-entered the instance from an import (both runtimes refuse that).
let depth: i32 = 0;

function enter(): void { depth++; }

/** Leaves an entry point: the outermost one frees what the call left unreachable. */
function leave<T>(result: T): T {
  if (--depth == 0) __collect();
  return result;
}

export function registerApp(a: TrustedApp): void {
  app = a;
}

/** Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (RFC 4122 text) into 16 bytes. */
export function uuidBytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let n = 0;
  let hi = -1;
  for (let i = 0; i < text.length && n < 16; i++) {
    const c = text.charCodeAt(i);
    let v = -1;
    if (c >= 48 && c <= 57) v = c - 48;
    else if (c >= 97 && c <= 102) v = c - 87;
    else if (c >= 65 && c <= 70) v = c - 55;
    if (v < 0) continue;
    if (hi < 0) hi = v;
    else { out[n++] = <u8>((hi << 4) | v); hi = -1; }
  }
  return out;
}

function copyIn(len: u32): Uint8Array {
  const b = new Uint8Array(<i32>len);
  memory.copy(b.dataStart, ioIn, len);
  return b;
}

function writeOut(data: Uint8Array): u32 {
  if (<u32>data.length > IO_CAP) {
    outLen = data.length; // the size needed, with SHORT_BUFFER
    return ERROR_SHORT_BUFFER;
  }
  memory.copy(ioOut, data.dataStart, data.length);
  outLen = data.length;
  return SUCCESS;
}

function writeError(status: u32, message: string): u32 {
  const d = new ErrorDetail();
  d.message = message;
  writeOut(d.encode());
  return status;
}

export function io_in(): usize { return ioIn; }
export function io_out(): usize { return ioOut; }
export function io_cap(): u32 { return IO_CAP; }
export function ta_out_len(): u32 { return outLen; }

export function ta_create(): u32 {
  enter();
  return leave(create());
}

function create(): u32 {
  outLen = 0;
  if (!app) return ERROR_BAD_STATE;
  return app!.create();
}

export function ta_open_session(session: u32, login: u32, clientLen: u32): u32 {
  enter();
  return leave(openSession(session, login, clientLen));
}

function openSession(session: u32, login: u32, clientLen: u32): u32 {
  outLen = 0;
  if (!app) return ERROR_BAD_STATE;
  if (clientLen > 64) return ERROR_BAD_PARAMETERS;
  if (sessions.has(session)) return ERROR_BAD_STATE;
  const client = new Client(login, copyIn(clientLen));
  const status = app!.openSession(session, client);
  if (status == SUCCESS) sessions.set(session, client);
  return status;
}

export function ta_invoke(session: u32, command: u32, inLen: u32): u32 {
  enter();
  return leave(invoke(session, command, inLen));
}

function invoke(session: u32, command: u32, inLen: u32): u32 {
  outLen = 0;
  if (!app) return ERROR_BAD_STATE;
  if (inLen > IO_CAP) return writeError(ERROR_BAD_PARAMETERS, "request larger than the TA input buffer");
  if (!sessions.has(session)) return writeError(ERROR_ACCESS_DENIED, "no such session");
  const a = app!;
  const input = copyIn(inLen);
  memory.fill(ioIn, 0, inLen); // requests may carry wrapped keys: leave nothing behind
  if (command == COMMAND_PING) {
    const p = new PingResponse();
    p.name = a.name;
    p.version = a.version;
    p.abiVersion = TA_ABI_VERSION;
    p.uuid = a.uuid;
    return writeOut(p.encode());
  }
  const reply = new Reply();
  a.invoke(session, sessions.get(session), command, input, reply);
  input.fill(0);
  return answer(reply);
}

function answer(reply: Reply): u32 {
  if (reply.status == TUI_PENDING) return TUI_PENDING;
  if (reply.status != SUCCESS) return writeError(reply.status, reply.message);
  const status = writeOut(reply.data);
  reply.data.fill(0);
  return status;
}

/** Trusted-UI event (only TAs that import tee.tui_* export it): TUI_PENDING or the answer. */
export function ta_tui_event(session: u32, kind: u32, position: u32): u32 {
  enter();
  return leave(tuiEvent(session, kind, position));
}

function tuiEvent(session: u32, kind: u32, position: u32): u32 {
  outLen = 0;
  if (!app) return ERROR_BAD_STATE;
  if (!sessions.has(session)) return writeError(ERROR_BAD_STATE, "no such session");
  const reply = new Reply();
  app!.tuiEvent(session, kind, position, reply);
  return answer(reply);
}

export function ta_close_session(session: u32): void {
  enter();
  if (app && sessions.has(session)) {
    app!.closeSession(session);
    sessions.delete(session);
  }
  leave(0);
}

export function ta_destroy(): void {
  enter();
  if (app) app!.destroy();
  sessions.clear();
  leave(0);
}
