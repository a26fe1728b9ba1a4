// One TA-to-TA command (GP TEE_OpenTASession + TEE_InvokeTACommand + TEE_CloseTASession): the
// callee learns the calling TA's UUID from the runtime, and answers bytes or a status with its
// ErrorDetail reason.
import * as host from "./host";
import { ErrorDetail } from "../../proto/gen/as/tee";

export class TaAnswer {
  constructor(public status: i32, public data: Uint8Array, public reason: string) {}
  get ok(): bool { return this.status >= 0; }
}

export function invokeTa(uuid: Uint8Array, command: u32, request: Uint8Array, outCap: i32 = 4096): TaAnswer {
  const s = host.session_open(uuid.dataStart);
  if (s < 0) return new TaAnswer(s, new Uint8Array(0), "opening the TA session failed");
  const out = new Uint8Array(outCap);
  const n = host.session_invoke(s, command, request.dataStart, request.length, out.dataStart, outCap);
  host.session_close(s);
  if (n >= 0) return new TaAnswer(n, out.slice(0, n), "");
  const detail = ErrorDetail.decode(out);
  out.fill(0);
  return new TaAnswer(n, new Uint8Array(0), detail && detail.message.length ? detail.message : "the TA refused");
}
