import { registerApp, uuidBytes } from "../../../ta/lib/entry";
import { Peer } from "./peer";
registerApp(new Peer("other", "0.0.1-test", uuidBytes("0c0fe7a0-0000-4000-8000-0000000a77e5")));
export { io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy } from "../../../ta/lib/entry";
