// The kit's TA-to-TA call (probe and TUI test TAs): opens a session to the TA whose UUID is
// input[0..16], invokes command input[16..20] with input[20..], closes it, and answers with what
// the callee answered (at most cap bytes) or the failing status.
import { Reply } from "../../ta/lib/entry";
import * as host from "../../ta/lib/host";
import { u32At } from "./le";

export function callOnce(reply: Reply, input: Uint8Array, cap: i32): void {
  const s = host.session_open(input.dataStart);
  if (s < 0) return reply.fail(<u32>s, "open failed");
  const out = new Uint8Array(cap);
  const n = host.session_invoke(s, u32At(input, 16), input.dataStart + 20, input.length - 20, out.dataStart, out.length);
  host.session_close(s);
  if (n < 0) return reply.fail(<u32>n, "callee failed");
  reply.ok(out.slice(0, n));
}
