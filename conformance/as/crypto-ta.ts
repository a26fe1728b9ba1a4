// The conformance kit's crypto TA: each command hands one Wycheproof case straight to a host
// crypto import (ecc_verify, eddsa_verify, ecdh, hmac, cipher_once, cipher_init/update) or to ta/lib/cmac.ts over the host's AES, so the kit
// judges each runtime's host crypto through the host ABI itself. Built only for tests.
import { TrustedApp, Reply, Client, registerApp, uuidBytes } from "../../ta/lib/entry";
import { u32At } from "./le";
import * as host from "../../ta/lib/host";
import { cmac } from "../../ta/lib/cmac";
import { AES_ECB } from "../../ta/lib/cipher";
import { ERROR_BAD_PARAMETERS } from "../../ta/lib/status";

const CMD_VERIFY: u32 = 1; // [alg][pubLen][pub][msgLen][msg][sig]          -> [status i32]
const CMD_ECDH: u32 = 2;   // [priv 32][pub]                                 -> [status i32][z 32]
const CMD_HMAC: u32 = 3;   // [alg][keyLen][key][msg]                        -> [status i32][mac 32]
const CMD_CMAC: u32 = 4;   // [keyLen][key][msg]                             -> [ok u8][tag 16]
const CMD_SIGN: u32 = 5;   // [alg][priv 32][msg]                            -> [status i32][sig 64]
const CMD_ECB: u32 = 6;    // [alg][keyLen][key][blocks]                     -> [status i32][out]
const CMD_EDDSA_VERIFY: u32 = 7; // as CMD_VERIFY, through tee.eddsa_verify (host ABI 1.1)
// [alg][mode][how][keyLen][key][ivLen][iv][data] -> [status i32][out]; how: 0 tee.cipher_once
// (host ABI 1.3), 1 cipher_init + cipher_update + op_free, 2 cipher_once in place (out = in)
const CMD_CIPHER: u32 = 8;


function withStatus(s: i32, data: Uint8Array | null): Uint8Array {
  const n = data ? data.length : 0;
  const o = new Uint8Array(4 + n);
  o[0] = <u8>s; o[1] = <u8>(s >> 8); o[2] = <u8>(s >> 16); o[3] = <u8>(s >> 24);
  if (data !== null) o.set(changetype<Uint8Array>(data), 4);
  return o;
}

class CryptoProbe extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    const bad = "malformed case";
    if (command == CMD_VERIFY || command == CMD_EDDSA_VERIFY) {
      if (input.length < 8) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const pl = <i32>u32At(input, 4);
      if (input.length < 12 + pl) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const ml = <i32>u32At(input, 8 + pl);
      const mo = 12 + pl;
      if (input.length < mo + ml) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const alg = u32At(input, 0), pub = input.dataStart + 8, msg = input.dataStart + mo, sig = input.dataStart + mo + ml, sl = input.length - mo - ml;
      const s = command == CMD_VERIFY ? host.ecc_verify(alg, pub, pl, msg, ml, sig, sl) : host.eddsa_verify(alg, pub, pl, msg, ml, sig, sl);
      return reply.ok(withStatus(s, null));
    }
    if (command == CMD_ECDH) {
      if (input.length < 32) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const z = new Uint8Array(32);
      const s = host.ecdh(input.dataStart, input.dataStart + 32, input.length - 32, z.dataStart);
      return reply.ok(withStatus(s, s == 32 ? z : null));
    }
    if (command == CMD_HMAC) {
      if (input.length < 8) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const kl = <i32>u32At(input, 4);
      if (input.length < 8 + kl) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const mac = new Uint8Array(32);
      const s = host.hmac(u32At(input, 0), input.dataStart + 8, kl, input.dataStart + 8 + kl, input.length - 8 - kl, mac.dataStart);
      return reply.ok(withStatus(s, s == 32 ? mac : null));
    }
    if (command == CMD_CMAC) {
      if (input.length < 4) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const kl = <i32>u32At(input, 0);
      if (input.length < 4 + kl) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const t = cmac(AES_ECB, input.slice(4, 4 + kl), input.slice(4 + kl), 16);
      const o = new Uint8Array(17);
      if (t !== null) { o[0] = 1; o.set(changetype<Uint8Array>(t), 1); }
      return reply.ok(o);
    }
    if (command == CMD_SIGN) {
      if (input.length < 36) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const sig = new Uint8Array(64);
      const s = host.ecc_sign(u32At(input, 0), input.dataStart + 4, input.dataStart + 36, input.length - 36, sig.dataStart);
      return reply.ok(withStatus(s, s == 64 ? sig : null));
    }
    if (command == CMD_ECB) {
      if (input.length < 8) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const kl = <i32>u32At(input, 4);
      if (input.length < 8 + kl) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const h = host.cipher_init(u32At(input, 0), host.MODE_ENCRYPT, input.dataStart + 8, kl, 0, 0);
      if (h < 0) return reply.ok(withStatus(h, null));
      const data = input.subarray(8 + kl);
      const out = new Uint8Array(data.length);
      const s = host.cipher_update(h, data.dataStart, data.length, out.dataStart);
      host.op_free(h);
      return reply.ok(withStatus(s, s == 0 ? out : null));
    }
    if (command == CMD_CIPHER) {
      if (input.length < 16) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const alg = u32At(input, 0), mode = u32At(input, 4), how = u32At(input, 8), kl = <i32>u32At(input, 12);
      if (input.length < 20 + kl) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const il = <i32>u32At(input, 16 + kl);
      if (input.length < 20 + kl + il) return reply.fail(ERROR_BAD_PARAMETERS, bad);
      const key = input.dataStart + 16, iv = input.dataStart + 20 + kl;
      const data = input.slice(20 + kl + il);
      const out = new Uint8Array(data.length);
      let s: i32;
      if (how == 1) {
        const h = host.cipher_init(alg, mode, key, kl, iv, il);
        if (h < 0) return reply.ok(withStatus(h, null));
        s = host.cipher_update(h, data.dataStart, data.length, out.dataStart);
        host.op_free(h);
      } else if (how == 2) {
        s = host.cipher_once(alg, mode, key, kl, iv, il, data.dataStart, data.length, data.dataStart);
        out.set(data);
      } else {
        s = host.cipher_once(alg, mode, key, kl, iv, il, data.dataStart, data.length, out.dataStart);
      }
      return reply.ok(withStatus(s, s == 0 ? out : null));
    }
    reply.fail(ERROR_BAD_PARAMETERS, "unknown command " + command.toString());
  }
}

registerApp(new CryptoProbe("crypto-probe", "1.0.0", uuidBytes("0c0fe7a0-0000-4000-8000-0000000c7e57")));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy,
} from "../../ta/lib/entry";
