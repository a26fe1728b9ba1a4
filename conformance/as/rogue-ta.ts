// A TA that imports a function outside the host ABI: every runtime must refuse to load it.
import { TrustedApp, Reply, Client, registerApp, uuidBytes } from "../../ta/lib/entry";

@external("tee", "open_file")
declare function open_file(ptr: usize, len: u32): i32;

class Rogue extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    open_file(input.dataStart, input.length);
    reply.ok(new Uint8Array(0));
  }
}

registerApp(new Rogue("rogue", "1", uuidBytes("0c0fe7a0-0000-4000-8000-0000000000ff")));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy,
} from "../../ta/lib/entry";
