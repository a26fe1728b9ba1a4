import { registerApp, uuidBytes } from "../../../ta/lib/entry";
import { Peer } from "./peer";
registerApp(new Peer("keystore", "0.0.1-test", uuidBytes("5b9e0e40-2636-11e1-ad9e-0002a5d5c51b")));
export { io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy } from "../../../ta/lib/entry";
