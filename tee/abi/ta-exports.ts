// TA ABI v1: what every trusted app exports (ta/lib/entry.ts implements it). The GlobalPlatform
// entry points (TA_CreateEntryPoint, TA_OpenSessionEntryPoint, TA_InvokeCommandEntryPoint,
// TA_CloseSessionEntryPoint, TA_DestroyEntryPoint) plus static I/O buffers: the host copies a
// request into io_in, the TA writes its response into io_out and reports its length.
export const TA_ABI_VERSION = 1;

export const requiredTaExports = [
  'memory',
  'io_in', // () -> ptr of the input buffer
  'io_out', // () -> ptr of the output buffer
  'io_cap', // () -> capacity of each buffer in bytes
  'ta_create', // () -> status
  'ta_open_session', // (session, login, clientLen) -> status; client UUID in io_in
  'ta_invoke', // (session, command, inLen) -> status; response in io_out
  'ta_out_len', // () -> length of the last response (or the size needed, with SHORT_BUFFER)
  'ta_close_session', // (session) -> void
  'ta_destroy', // () -> void
] as const;

/** GP login types (TEEC_LOGIN_*, TEE_LOGIN_TRUSTED_APP). */
export const Login = { PUBLIC: 0x0, USER: 0x1, GROUP: 0x2, APPLICATION: 0x4, TRUSTED_APP: 0xf0000000 } as const;

export interface TaExports {
  memory: WebAssembly.Memory;
  io_in(): number;
  io_out(): number;
  io_cap(): number;
  ta_create(): number;
  ta_open_session(session: number, login: number, clientLen: number): number;
  ta_invoke(session: number, command: number, inLen: number): number;
  ta_out_len(): number;
  ta_close_session(session: number): void;
  ta_destroy(): void;
}

/** Required only of TAs that import the trusted-UI host functions (tuiImports in table.ts):
 * ta_tui_event(session, kind, position) -> status. TUI_PENDING keeps the command pending; any
 * other status ends it, with the response in io_out as for ta_invoke. */
export const tuiTaExports = ['ta_tui_event'] as const;
/** Returned by ta_invoke (after tui_begin) and ta_tui_event while the entry goes on; no GP
 * status has this value. */
export const TUI_PENDING = 1;

export interface TuiTaExports {
  ta_tui_event(session: number, kind: number, position: number): number;
}
