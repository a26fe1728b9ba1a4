// The trusted-UI probe TA for the kit's TUI category (conformance/kit-tui.ts): begins
// entries with the screen the test hands it, records every event it receives, and answers the
// host functions' statuses so a test can check a runtime's trusted-UI semantics (statuses,
// pending commands, events, Cancel, timeouts, death during an entry). Built only for tests.
import { TrustedApp, Reply, Client, registerApp, uuidBytes } from "../../ta/lib/entry";
import { u32At, i32Bytes } from "./le";
import { callOnce } from "./call";
import * as host from "../../ta/lib/host";
import { ERROR_BAD_PARAMETERS } from "../../ta/lib/status";

const CMD_BEGIN: u32 = 1;          // [timeout u32][mode u32][screen]: mode 0 pend, 1 answer at once, 2 begin twice then pend
const CMD_PENDING_NO_BEGIN: u32 = 2;
const CMD_UPDATE_NOW: u32 = 3;     // [screen]
const CMD_CALL: u32 = 4;           // [uuid 16][cmd u32][payload]: TA-to-TA
const CMD_PING2: u32 = 5;


let screen = new Uint8Array(0);
let entered: u8 = 0;
const log = new Array<u8>(); // [second-begin status i32 LE][kind, position, tui_update status low byte]...

function update(extra: Uint8Array): i32 {
  const s = new Uint8Array(screen.length + extra.length);
  s.set(screen, 0);
  s.set(extra, screen.length);
  return host.tui_update(s.dataStart, s.length);
}

class TuiProbe extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    if (command == CMD_BEGIN) {
      if (input.length < 8) return reply.fail(ERROR_BAD_PARAMETERS, "[timeout][mode][screen]");
      screen = input.slice(8);
      const s = host.tui_begin(screen.dataStart, screen.length, u32At(input, 0));
      if (s < 0) return reply.ok(i32Bytes(s));
      const mode = u32At(input, 4);
      if (mode == 1) return reply.ok(i32Bytes(1));
      log.length = 0;
      entered = 0;
      const again = mode == 2 ? host.tui_begin(screen.dataStart, screen.length, u32At(input, 0)) : 0;
      const a = i32Bytes(again);
      for (let i = 0; i < 4; i++) log.push(a[i]);
      return reply.pending();
    }
    if (command == CMD_PENDING_NO_BEGIN) return reply.pending();
    if (command == CMD_UPDATE_NOW) return reply.ok(i32Bytes(host.tui_update(input.dataStart, input.length)));
    if (command == CMD_CALL) return callOnce(reply, input, 256);
    if (command == CMD_PING2) return reply.ok(i32Bytes(7));
    reply.fail(ERROR_BAD_PARAMETERS, "unknown command");
  }

  tuiEvent(session: u32, kind: u32, position: u32, reply: Reply): void {
    if (kind == host.TUI_EVENT_TOUCH && position == 99) unreachable(); // dies during an entry
    let st: i32 = 0;
    if (kind == host.TUI_EVENT_TOUCH) { entered++; st = update(Uint8Array.wrap(bytes2(0x20, entered))); } // TuiScreen.entered
    else if (kind == host.TUI_EVENT_CLEAR) { entered = 0; st = update(bytes3(0x0a, 0xff, 0x01)); } // does not decode: BAD_FORMAT
    log.push(<u8>kind); log.push(<u8>position); log.push(<u8>(st & 0xff)); // low byte of the GP status
    if (kind == host.TUI_EVENT_TOUCH || kind == host.TUI_EVENT_CLEAR || kind == host.TUI_EVENT_TOUCH_AT) return reply.pending();
    const out = new Uint8Array(log.length);
    for (let i = 0; i < log.length; i++) out[i] = log[i];
    reply.ok(out);
  }
}

function bytes2(a: u8, b: u8): ArrayBuffer { const o = new Uint8Array(2); o[0] = a; o[1] = b; return o.buffer; }
function bytes3(a: u8, b: u8, c: u8): Uint8Array { const o = new Uint8Array(3); o[0] = a; o[1] = b; o[2] = c; return o; }

registerApp(new TuiProbe("tui-probe", "1.0.0", uuidBytes("0c0fe7a0-0000-4000-8000-0000000007e1")));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy, ta_tui_event,
} from "../../ta/lib/entry";
