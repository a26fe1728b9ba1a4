import { registerApp, uuidBytes } from "../../../ta/lib/entry";
import { Peer } from "./peer";
registerApp(new Peer("txsign", "0.0.1-test", uuidBytes("7a1c5e00-7e5f-4c0d-9a11-7857a7e5f160")));
export { io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy } from "../../../ta/lib/entry";
