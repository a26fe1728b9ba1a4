// Test peers of the attest TA, registered under real UUIDs: a stand-in txsign (calls attest's
// SIGN) and a stand-in keystore (receives INSTALL_AGREED_KEK and keeps the exact bytes so the
// test can check them). Test builds only: the stand-in keystore exposes the KEK on purpose.
import { TrustedApp, Reply, Client, uuidBytes } from "../../../ta/lib/entry";
import { KeyInfo, GenerateKeyResponse } from "../../../proto/gen/as/keystore";
import { kcv } from "../../../ta/lib/kcv";
import * as host from "../../../ta/lib/host";

export const ATTEST_UUID = "a77e5700-0d1c-4e0a-9b5e-a77e57a77e57";
export const CMD_CALL_ATTEST: u32 = 1;
export const CMD_LAST_INSTALL: u32 = 2;
export const CMD_INSTALL_AGREED_KEK: u32 = 100;

let lastInstall = new Uint8Array(0);
let lastCaller = new Uint8Array(0);

export class Peer extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    if (command == CMD_CALL_ATTEST) {
      // input: [attest command u8][payload]
      if (input.length < 1) return reply.fail(0xffff0006, "[cmd][payload]");
      const u = uuidBytes(ATTEST_UUID);
      const s = host.session_open(u.dataStart);
      if (s < 0) return reply.fail(<u32>s, "open failed");
      const out = new Uint8Array(4096);
      const n = host.session_invoke(s, <u32>input[0], input.dataStart + 1, input.length - 1, out.dataStart, out.length);
      host.session_close(s);
      if (n < 0) return reply.fail(<u32>n, "attest refused");
      return reply.ok(out.slice(0, n));
    }
    if (command == CMD_INSTALL_AGREED_KEK) {
      lastInstall = input.slice();
      lastCaller = client.identity.slice();
      // material = field 2 at a fixed place is not assumed: find tag 0x12 0x20
      let k = new Uint8Array(0);
      for (let i = 0; i + 34 <= input.length; i++) if (input[i] == 0x12 && input[i + 1] == 0x20) { k = input.slice(i + 2, i + 34); break; }
      const info = new KeyInfo();
      info.keyId = "kek";
      const c = kcv(k, true);
      if (c) info.kcv = c!;
      const res = new GenerateKeyResponse();
      res.key = info;
      return reply.ok(res.encode());
    }
    if (command == CMD_LAST_INSTALL) {
      const out = new Uint8Array(16 + lastInstall.length);
      out.set(lastCaller, 0);
      out.set(lastInstall, 16);
      return reply.ok(out);
    }
    reply.fail(0xffff0006, "unknown command");
  }
}
