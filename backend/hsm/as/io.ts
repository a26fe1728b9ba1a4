// @ts-nocheck — AssemblyScript, compiled by asc (backend/hsm/wasm.ts), not by tsc.
// The HSM module's one I/O buffer: the host lays the inputs end to end in it, an export reads
// them out, writes its result back and returns the length (or a GP status < 0 with a reason).
// The host (wasm.ts) wipes the buffer after every call.
import { lastError, lastErrorReason } from "../../../ta/lib/error";

export const IO_CAP: i32 = 16384;
const io = memory.data(IO_CAP, 16);
let reason: string = "";

export function io_buf(): usize { return io; }
export function io_cap(): i32 { return IO_CAP; }

export function input(off: i32, len: i32): Uint8Array {
  const b = new Uint8Array(len);
  memory.copy(b.dataStart, io + <usize>off, <usize>len);
  return b;
}

export function output(parts: Uint8Array[]): i32 {
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    memory.copy(io + <usize>n, parts[i].dataStart, <usize>parts[i].length);
    n += parts[i].length;
  }
  return n;
}

export function setReason(why: string): void {
  reason = why;
}

/** Records the ta/lib failure behind a null result; returns its GP status. */
export function failed(what: string): i32 {
  const c = lastError();
  reason = what + ": " + lastErrorReason();
  return c == 0 ? -1 : <i32>c;
}

/** Length of the last failure's reason, written into io. */
export function last_reason(): i32 {
  const b = Uint8Array.wrap(String.UTF8.encode(reason));
  return output([b]);
}
