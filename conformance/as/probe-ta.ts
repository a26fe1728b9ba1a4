// The conformance probe TA: a trusted app that exercises every corner of the host ABI on
// command, including the wrong ones (traps, runaway loops, out-of-bounds pointers), so the
// kit can check how a runtime reacts. Built only for tests.
import { TrustedApp, Reply, Client, registerApp, uuidBytes } from "../../ta/lib/entry";
import { u32At, i32Bytes } from "./le";
import { callOnce } from "./call";
import * as host from "../../ta/lib/host";
import { ERROR_BAD_PARAMETERS } from "../../ta/lib/status";

export const CMD_TRAP: u32 = 1;
export const CMD_LOOP: u32 = 2;
export const CMD_OOB: u32 = 3;
export const CMD_STORE_PUT: u32 = 4;
export const CMD_STORE_GET: u32 = 5;
export const CMD_STORE_DEL: u32 = 6;
export const CMD_CALL_TA: u32 = 7;
export const CMD_WHOAMI: u32 = 8;
export const CMD_ECHO: u32 = 9;
export const CMD_BIG: u32 = 10;
export const CMD_ALLOC: u32 = 11;
export const CMD_RANDOM: u32 = 12;
/** Opens [count u32, default 1] sessions to [uuid 16] and keeps them; answers their ids (u32 each). */
export const CMD_HOLD: u32 = 13;
/** Invokes held session [index u32] with [cmd u32][payload]. */
export const CMD_HELD_CALL: u32 = 14;
/** Closes every held session; answers how many. */
export const CMD_RELEASE: u32 = 15;
/** CALL_TA, then runs away itself: the watchdog must still stop the caller after a killed callee. */
export const CMD_CALL_THEN_LOOP: u32 = 16;

const BAD: usize = 0xfffffff0;



let sink: u32 = 0;
const keep = new Array<Uint8Array>();
const held = new Array<i32>();

/** Calls host function number `which` with a pointer outside TA memory. */
function oob(which: u32): void {
  const ok = new Uint8Array(64);
  const p = ok.dataStart;
  switch (which) {
    case 0: host.random(BAD, 32); break;
    case 1: host.huk_derive(BAD, 4, p, 32); break;
    case 2: host.huk_derive(p, 4, BAD, 32); break;
    case 3: host.storage_size(BAD, 4); break;
    case 4: host.storage_read(p, 4, BAD, 64); break;
    case 5: host.storage_write(BAD, 4, p, 4); break;
    case 6: host.storage_write(p, 4, BAD, 64); break;
    case 7: host.storage_delete(BAD, 4); break;
    case 8: host.storage_list(BAD, 64); break;
    case 9: host.cipher_init(host.ALG_AES_ECB_NOPAD, 0, BAD, 16, 0, 0); break;
    case 10: {
      const h = host.cipher_init(host.ALG_AES_ECB_NOPAD, 0, p, 16, 0, 0);
      host.cipher_update(h, BAD, 16, p);
      break;
    }
    case 11: {
      const h = host.cipher_init(host.ALG_AES_ECB_NOPAD, 0, p, 16, 0, 0);
      host.cipher_update(h, p, 16, BAD);
      break;
    }
    case 12: host.digest(host.ALG_SHA256, BAD, 16, p); break;
    case 13: host.digest(host.ALG_SHA256, p, 16, BAD); break;
    case 14: host.hmac(host.ALG_HMAC_SHA256, BAD, 16, p, 16, p); break;
    case 15: host.hmac(host.ALG_HMAC_SHA256, p, 16, BAD, 16, p); break;
    case 16: host.ecc_generate(host.CURVE_NIST_P256, BAD, p); break;
    case 17: host.ecc_sign(host.ALG_ECDSA_P256, BAD, p, 16, p); break;
    case 18: host.ecc_verify(host.ALG_ECDSA_P256, BAD, 65, p, 16, p, 64); break;
    case 19: host.ecdh(BAD, p, 65, p); break;
    case 20: host.session_open(BAD); break;
    case 21: host.session_invoke(1, 0, BAD, 16, p, 64); break;
    case 22: host.random(p, 0x7ffffff0); break; // a length past the end
    case 23: host.storage_read(p, 4, p, 0x7ffffff0); break;
    case 24: host.attest_measurements(BAD, 64); break;
    case 25: host.oem_certify(BAD, 65, p, 64); break;
    case 26: host.tui_begin(BAD, 16, 1000); break;
    case 27: host.tui_update(BAD, 16); break;
    case 28: host.eddsa_verify(host.ALG_ED25519, BAD, 32, p, 16, p, 64); break;
    case 29: host.cipher_once(host.ALG_AES_ECB_NOPAD, 0, BAD, 16, 0, 0, p, 16, p); break;
    case 30: host.cipher_once(host.ALG_AES_CBC_NOPAD, 0, p, 16, BAD, 16, p, 16, p); break;
    case 31: host.cipher_once(host.ALG_AES_ECB_NOPAD, 0, p, 16, 0, 0, BAD, 16, p); break;
    case 32: host.cipher_once(host.ALG_AES_ECB_NOPAD, 0, p, 16, 0, 0, p, 16, BAD); break;
    case 33: host.cipher_once(0, 0, p, 16, 0, 0, p, 16, BAD); break; // bounds before any other check
  }
  sink += ok[0];
}

export const OOB_CASES: u32 = 34;

class Probe extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    if (command == CMD_TRAP) { unreachable(); }
    if (command == CMD_LOOP) { while (sink != 0xdeadbeef) { sink = sink * 1664525 + 1013904223; if (sink == 0xdeadbeef) sink = 1; } }
    if (command == CMD_OOB) {
      if (input.length < 1) return reply.fail(ERROR_BAD_PARAMETERS, "which host call?");
      oob(input[0]);
      return reply.ok(new Uint8Array(0));
    }
    if (command == CMD_STORE_PUT || command == CMD_STORE_GET || command == CMD_STORE_DEL) {
      if (input.length < 1 || input.length < 1 + <i32>input[0]) return reply.fail(ERROR_BAD_PARAMETERS, "[idLen][id][data]");
      const id = input.subarray(1, 1 + input[0]);
      if (command == CMD_STORE_PUT) {
        const data = input.subarray(1 + input[0]);
        const s = host.storage_write(id.dataStart, id.length, data.dataStart, data.length);
        return s < 0 ? reply.fail(<u32>s, "write failed") : reply.ok(new Uint8Array(0));
      }
      if (command == CMD_STORE_DEL) {
        const s = host.storage_delete(id.dataStart, id.length);
        return s < 0 ? reply.fail(<u32>s, "delete failed") : reply.ok(new Uint8Array(0));
      }
      const n = host.storage_size(id.dataStart, id.length);
      if (n < 0) return reply.fail(<u32>n, "read failed");
      const out = new Uint8Array(n);
      const r = host.storage_read(id.dataStart, id.length, out.dataStart, n);
      return r < 0 ? reply.fail(<u32>r, "read failed") : reply.ok(out);
    }
    if (command == CMD_CALL_TA) {
      if (input.length < 20) return reply.fail(ERROR_BAD_PARAMETERS, "[uuid 16][cmd u32][payload]");
      return callOnce(reply, input, 4096);
    }
    if (command == CMD_CALL_THEN_LOOP) {
      if (input.length < 20) return reply.fail(ERROR_BAD_PARAMETERS, "[uuid 16][cmd u32][payload]");
      const s = host.session_open(input.dataStart);
      if (s >= 0) {
        const out = new Uint8Array(64);
        host.session_invoke(s, u32At(input, 16), input.dataStart + 20, input.length - 20, out.dataStart, out.length);
        host.session_close(s);
      }
      while (sink != 0xdeadbeef) { sink = sink * 1664525 + 1013904223; if (sink == 0xdeadbeef) sink = 1; }
      return reply.ok(new Uint8Array(0));
    }
    if (command == CMD_HOLD) {
      if (input.length < 16) return reply.fail(ERROR_BAD_PARAMETERS, "[uuid 16][count u32]");
      const count = input.length >= 20 ? u32At(input, 16) : 1;
      const ids = new Uint8Array(<i32>count * 4);
      for (let i: u32 = 0; i < count; i++) {
        const s = host.session_open(input.dataStart);
        if (s < 0) return reply.fail(<u32>s, "open failed");
        held.push(s);
        ids.set(i32Bytes(s), <i32>i * 4);
      }
      return reply.ok(ids);
    }
    if (command == CMD_HELD_CALL) {
      if (input.length < 8 || u32At(input, 0) >= <u32>held.length) return reply.fail(ERROR_BAD_PARAMETERS, "[index u32][cmd u32][payload]");
      const out = new Uint8Array(4096);
      const n = host.session_invoke(held[<i32>u32At(input, 0)], u32At(input, 4), input.dataStart + 8, input.length - 8, out.dataStart, out.length);
      if (n < 0) return reply.fail(<u32>n, "callee failed");
      return reply.ok(out.slice(0, n));
    }
    if (command == CMD_RELEASE) {
      const n = held.length;
      for (let i = 0; i < n; i++) host.session_close(held[i]);
      held.length = 0;
      return reply.ok(i32Bytes(n));
    }
    if (command == CMD_WHOAMI) {
      const out = new Uint8Array(4 + client.identity.length);
      out.set(i32Bytes(<i32>client.login), 0);
      out.set(client.identity, 4);
      return reply.ok(out);
    }
    if (command == CMD_ECHO) return reply.ok(input.slice());
    if (command == CMD_BIG) return reply.ok(new Uint8Array(<i32>u32At(input, 0)));
    if (command == CMD_ALLOC) {
      for (let i: u32 = 0; i < u32At(input, 0); i++) keep.push(new Uint8Array(1 << 20));
      return reply.ok(i32Bytes(keep.length));
    }
    if (command == CMD_RANDOM) {
      const out = new Uint8Array(<i32>u32At(input, 0));
      host.random(out.dataStart, out.length);
      return reply.ok(out);
    }
    reply.fail(ERROR_BAD_PARAMETERS, "unknown command " + command.toString());
  }
}

registerApp(new Probe("probe", "1.0.0", uuidBytes("0c0fe7a0-0000-4000-8000-00000000c0de")));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy, ta_tui_event,
} from "../../ta/lib/entry";
