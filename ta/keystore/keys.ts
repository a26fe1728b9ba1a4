// Key life cycle: generate inside the TEE, read public info, list, destroy; clear import for
// development builds only; install a KEK agreed by the attest TA.
import { Reply } from "../lib/entry";
import {
  KeyInfo, KeyAttributes, GenerateKeyRequest, GenerateKeyResponse, GetKeyInfoRequest, GetKeyInfoResponse,
  ListKeysResponse, DeleteKeyRequest, DeleteKeyResponse, ImportClearKeyRequest, ImportClearKeyResponse,
  InstallAgreedKekRequest, InstallAgreedKekResponse, KeyUsage, KeyAlgorithm,
} from "../../proto/gen/as/keystore";
import { StoredKey } from "../../proto/gen/as/keystore_sealed";
import * as host from "../lib/host";
import { kcv } from "../lib/kcv";
import { SM4_ECB, encrypt } from "../lib/cipher";
import { DEBUG_BUILD } from "../lib/log";
import { ERROR_BAD_PARAMETERS, ERROR_ACCESS_CONFLICT, ERROR_ITEM_NOT_FOUND, ERROR_GENERIC, ERROR_NOT_SUPPORTED } from "../lib/status";
import * as keyring from "./keyring";
import { checkAttributes } from "./attributes";
import { keyLength, isAes, isSm4 } from "./tr31-map";
import { decodeFailed, storageFailed, badKeyId } from "./common";
import { loadDukpt } from "./dukpt";

/** Sets DES odd parity on every byte (ANSI X3.92), as TDES keys carry it. */
export function setOddParity(k: Uint8Array): void {
  for (let i = 0; i < k.length; i++) {
    const b = k[i] & 0xfe;
    k[i] = b | (<u8>(popcnt<u32>(b) & 1) ^ 1);
  }
}

/** SM4 check value, by analogy with the legacy KCV (ANSI X9.24-1) and as UnionPay terminals
 * check downloaded working keys: leftmost 4 bytes of SM4-ECB(K, 16 zero bytes). */
export function kcvSm4(key: Uint8Array): Uint8Array | null {
  const c = encrypt(SM4_ECB, key, new Uint8Array(16));
  if (!c) return null;
  const out = c.slice(0, 4);
  c.fill(0);
  return out;
}

/** The check value this keystore reports for a key of this algorithm. */
export function checkValueOf(material: Uint8Array, alg: KeyAlgorithm): Uint8Array | null {
  return isSm4(alg) ? kcvSm4(material) : kcv(material, isAes(alg));
}

/** Stores a new key after its attributes were checked; wipes material. Returns the info or null (reply failed). */
export function storeNewKey(reply: Reply, keyId: string, attrs: KeyAttributes, material: Uint8Array, wrappedBy: string, dukptKsn: Uint8Array | null): KeyInfo | null {
  if (keyring.exists(keyId)) { material.fill(0); reply.fail(ERROR_ACCESS_CONFLICT, "a key with key_id " + keyId + " exists; delete it first"); return null; }
  const check = checkValueOf(material, attrs.algorithm);
  if (!check) { material.fill(0); reply.fail(ERROR_GENERIC, "key check value computation failed"); return null; }
  const info = new KeyInfo();
  info.keyId = keyId;
  info.attributes = attrs;
  info.kcv = check;
  info.createdMs = <u64>host.ree_time_ms();
  info.wrappedBy = wrappedBy;
  const rec = new StoredKey();
  rec.info = info;
  if (attrs.usage == KeyUsage.KEY_USAGE_B1_DUKPT_INITIAL_KEY) {
    // The initial key becomes derivation registers at once; the key itself is never stored.
    if (!loadDukpt(reply, rec, material, dukptKsn)) { material.fill(0); return null; }
  } else {
    rec.material = material;
  }
  const s = keyring.save(rec);
  material.fill(0);
  rec.material.fill(0);
  if (s < 0) { storageFailed(reply, "saving the key"); return null; }
  return info;
}

export function generate(input: Uint8Array, reply: Reply): void {
  const req = GenerateKeyRequest.decode(input);
  if (!req) return decodeFailed(reply, "GenerateKeyRequest");
  if (badKeyId(reply, req.keyId)) return;
  const attrs = req.attributes;
  if (!attrs) return reply.fail(ERROR_BAD_PARAMETERS, "attributes are required");
  const why = checkAttributes(attrs);
  if (why.length) return reply.fail(ERROR_BAD_PARAMETERS, why);
  if (attrs.usage == KeyUsage.KEY_USAGE_B0_BDK || attrs.usage == KeyUsage.KEY_USAGE_B1_DUKPT_INITIAL_KEY) {
    return reply.fail(ERROR_NOT_SUPPORTED, "DUKPT keys come from a BDK at the host: import them as a key block");
  }
  const len = keyLength(attrs.algorithm);
  const material = new Uint8Array(len);
  host.random(material.dataStart, len);
  if (!isAes(attrs.algorithm) && !isSm4(attrs.algorithm)) setOddParity(material);
  const info = storeNewKey(reply, req.keyId, attrs, material, "", null);
  if (!info) return;
  const res = new GenerateKeyResponse();
  res.key = info;
  reply.ok(res.encode());
}

/** Development builds only: release TAs answer NOT_SUPPORTED whatever the request. */
export function importClear(input: Uint8Array, reply: Reply): void {
  if (!DEBUG_BUILD) return reply.fail(ERROR_NOT_SUPPORTED, "clear-key import exists only in development builds");
  const req = ImportClearKeyRequest.decode(input);
  if (!req) return decodeFailed(reply, "ImportClearKeyRequest");
  if (badKeyId(reply, req.keyId)) { req.material.fill(0); return; }
  const attrs = req.attributes;
  if (!attrs) { req.material.fill(0); return reply.fail(ERROR_BAD_PARAMETERS, "attributes are required"); }
  const why = checkAttributes(attrs);
  if (why.length) { req.material.fill(0); return reply.fail(ERROR_BAD_PARAMETERS, why); }
  if (req.material.length != keyLength(attrs.algorithm)) { req.material.fill(0); return reply.fail(ERROR_BAD_PARAMETERS, "material length does not match the algorithm"); }
  const info = storeNewKey(reply, req.keyId, attrs, req.material, "", null);
  if (!info) return;
  const res = new ImportClearKeyResponse();
  res.key = info;
  reply.ok(res.encode());
}

/** From the attest TA only (the caller check is in index.ts): an AES-256 KEK agreed by ECDH. */
export function installAgreedKek(input: Uint8Array, reply: Reply): void {
  const req = InstallAgreedKekRequest.decode(input);
  if (!req) return decodeFailed(reply, "InstallAgreedKekRequest");
  const attrs = req.attributes;
  if (badKeyId(reply, req.keyId) || !attrs) { req.material.fill(0); if (!attrs) reply.fail(ERROR_BAD_PARAMETERS, "attributes are required"); return; }
  const why = checkAttributes(attrs);
  const kek = attrs.usage == KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION || attrs.usage == KeyUsage.KEY_USAGE_K1_TR31_KBPK;
  if (why.length || !kek || attrs.algorithm != KeyAlgorithm.KEY_ALGORITHM_AES_256 || req.material.length != 32) {
    req.material.fill(0);
    return reply.fail(ERROR_BAD_PARAMETERS, why.length ? why : "an agreed KEK is a 32-byte AES-256 key with usage K0 or K1");
  }
  const info = storeNewKey(reply, req.keyId, attrs, req.material, "ecdh", null);
  if (!info) return;
  const res = new InstallAgreedKekResponse();
  res.key = info;
  reply.ok(res.encode());
}

export function info(input: Uint8Array, reply: Reply): void {
  const req = GetKeyInfoRequest.decode(input);
  if (!req) return decodeFailed(reply, "GetKeyInfoRequest");
  if (badKeyId(reply, req.keyId)) return;
  const rec = keyring.load(req.keyId);
  if (!rec) {
    if (keyring.storageStatus == <i32>ERROR_ITEM_NOT_FOUND) return reply.fail(ERROR_ITEM_NOT_FOUND, "no key with key_id " + req.keyId);
    return storageFailed(reply, "reading the key");
  }
  rec.material.fill(0);
  const res = new GetKeyInfoResponse();
  res.key = rec.info;
  reply.ok(res.encode());
}

export function list(reply: Reply): void {
  const res = new ListKeysResponse();
  res.keys = keyring.listInfos();
  if (keyring.storageStatus < 0) return storageFailed(reply, "listing keys");
  reply.ok(res.encode());
}

export function destroy(input: Uint8Array, reply: Reply): void {
  const req = DeleteKeyRequest.decode(input);
  if (!req) return decodeFailed(reply, "DeleteKeyRequest");
  if (badKeyId(reply, req.keyId)) return;
  const s = keyring.remove(req.keyId);
  if (s == <i32>ERROR_ITEM_NOT_FOUND) return reply.fail(ERROR_ITEM_NOT_FOUND, "no key with key_id " + req.keyId);
  if (s < 0) return storageFailed(reply, "deleting the key");
  reply.ok(new DeleteKeyResponse().encode());
}
