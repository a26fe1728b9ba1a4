// Keystore TA: payment keys generated or imported inside the TEE, kept in sealed storage, used
// only by the operations their attributes allow. No clear key ever leaves this TA.
import { TrustedApp, Reply, Client, registerApp, uuidBytes } from "../lib/entry";
import {
  Command, KeyAlgorithm, KeyInfo, KeyAttributes,
  GenerateKeyRequest, GenerateKeyResponse, GetKeyInfoRequest, GetKeyInfoResponse,
  ListKeysResponse, DeleteKeyRequest, DeleteKeyResponse,
} from "../../proto/gen/as/keystore";
import { StoredKey } from "../../proto/gen/as/keystore_sealed";
import { lastDecodeError } from "../../proto/as/pb";
import * as host from "../lib/host";
import { kcv } from "../lib/kcv";
import * as keyring from "./keyring";
import { checkAttributes } from "./attributes";
import {
  ERROR_BAD_PARAMETERS, ERROR_BAD_FORMAT, ERROR_ACCESS_CONFLICT, ERROR_ITEM_NOT_FOUND, ERROR_GENERIC,
} from "../lib/status";

const UUID = "5b9e0e40-2636-11e1-ad9e-0002a5d5c51b";

/** Key length in bytes for an algorithm, or 0 if unknown. */
function keyLength(alg: KeyAlgorithm): i32 {
  switch (alg) {
    case KeyAlgorithm.KEY_ALGORITHM_TDES_2KEY: return 16;
    case KeyAlgorithm.KEY_ALGORITHM_TDES_3KEY: return 24;
    case KeyAlgorithm.KEY_ALGORITHM_AES_128: return 16;
    case KeyAlgorithm.KEY_ALGORITHM_AES_192: return 24;
    case KeyAlgorithm.KEY_ALGORITHM_AES_256: return 32;
  }
  return 0;
}

function isAes(alg: KeyAlgorithm): bool {
  return alg == KeyAlgorithm.KEY_ALGORITHM_AES_128 || alg == KeyAlgorithm.KEY_ALGORITHM_AES_192 || alg == KeyAlgorithm.KEY_ALGORITHM_AES_256;
}

/** Sets DES odd parity on every byte (ANSI X3.92), as TDES keys carry it. */
function setOddParity(k: Uint8Array): void {
  for (let i = 0; i < k.length; i++) {
    const b = k[i] & 0xfe;
    k[i] = b | (<u8>(popcnt<u32>(b) & 1) ^ 1);
  }
}

function decodeFailed(reply: Reply, what: string): void {
  reply.fail(ERROR_BAD_FORMAT, "malformed " + what + " (decode error " + lastDecodeError().toString() + ")");
}

function storageFailed(reply: Reply, what: string): void {
  const s = <u32>keyring.storageStatus;
  reply.fail(s == 0 ? ERROR_GENERIC : s, what + " failed in sealed storage");
}

class Keystore extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    switch (command) {
      case Command.COMMAND_GENERATE_KEY: this.generate(input, reply); break;
      case Command.COMMAND_GET_KEY_INFO: this.info(input, reply); break;
      case Command.COMMAND_LIST_KEYS: this.list(reply); break;
      case Command.COMMAND_DELETE_KEY: this.destroyKey(input, reply); break;
      default: reply.fail(ERROR_BAD_PARAMETERS, "unknown command " + command.toString());
    }
  }

  generate(input: Uint8Array, reply: Reply): void {
    const req = GenerateKeyRequest.decode(input);
    if (!req) return decodeFailed(reply, "GenerateKeyRequest");
    if (!keyring.validKeyId(req.keyId)) return reply.fail(ERROR_BAD_PARAMETERS, "key_id must be 1..48 characters of [A-Za-z0-9._-]");
    const attrs = req.attributes;
    if (!attrs) return reply.fail(ERROR_BAD_PARAMETERS, "attributes are required");
    const why = checkAttributes(attrs);
    if (why.length) return reply.fail(ERROR_BAD_PARAMETERS, why);
    if (keyring.exists(req.keyId)) return reply.fail(ERROR_ACCESS_CONFLICT, "a key with this key_id exists; delete it first");
    const len = keyLength(attrs.algorithm);
    const material = new Uint8Array(len);
    host.random(material.dataStart, len);
    if (!isAes(attrs.algorithm)) setOddParity(material);
    const check = kcv(material, isAes(attrs.algorithm));
    if (!check) { material.fill(0); return reply.fail(ERROR_GENERIC, "key check value computation failed"); }
    const info = new KeyInfo();
    info.keyId = req.keyId;
    info.attributes = attrs;
    info.kcv = check;
    info.createdMs = <u64>host.ree_time_ms();
    const rec = new StoredKey();
    rec.info = info;
    rec.material = material;
    const s = keyring.save(rec);
    material.fill(0);
    if (s < 0) return storageFailed(reply, "saving the key");
    const res = new GenerateKeyResponse();
    res.key = info;
    reply.ok(res.encode());
  }

  info(input: Uint8Array, reply: Reply): void {
    const req = GetKeyInfoRequest.decode(input);
    if (!req) return decodeFailed(reply, "GetKeyInfoRequest");
    if (!keyring.validKeyId(req.keyId)) return reply.fail(ERROR_BAD_PARAMETERS, "key_id must be 1..48 characters of [A-Za-z0-9._-]");
    const rec = keyring.load(req.keyId);
    if (!rec) {
      if (keyring.storageStatus == <i32>ERROR_ITEM_NOT_FOUND) return reply.fail(ERROR_ITEM_NOT_FOUND, "no key with this key_id");
      return storageFailed(reply, "reading the key");
    }
    rec.material.fill(0);
    const res = new GetKeyInfoResponse();
    res.key = rec.info;
    reply.ok(res.encode());
  }

  list(reply: Reply): void {
    const res = new ListKeysResponse();
    res.keys = keyring.listInfos();
    if (keyring.storageStatus < 0) return storageFailed(reply, "listing keys");
    reply.ok(res.encode());
  }

  destroyKey(input: Uint8Array, reply: Reply): void {
    const req = DeleteKeyRequest.decode(input);
    if (!req) return decodeFailed(reply, "DeleteKeyRequest");
    if (!keyring.validKeyId(req.keyId)) return reply.fail(ERROR_BAD_PARAMETERS, "key_id must be 1..48 characters of [A-Za-z0-9._-]");
    const s = keyring.remove(req.keyId);
    if (s == <i32>ERROR_ITEM_NOT_FOUND) return reply.fail(ERROR_ITEM_NOT_FOUND, "no key with this key_id");
    if (s < 0) return storageFailed(reply, "deleting the key");
    reply.ok(new DeleteKeyResponse().encode());
  }
}

registerApp(new Keystore("keystore", "0.1.0", uuidBytes(UUID)));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy,
} from "../lib/entry";
