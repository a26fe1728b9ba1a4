// Shared plumbing of the keystore's command handlers: loading a key for an operation with
// its usage rule and limits applied, and mapping failures to typed replies.
import { Reply } from "../lib/entry";
import { lastDecodeError } from "../../proto/as/pb";
import { StoredKey } from "../../proto/gen/as/keystore_sealed";
import { ERROR_BAD_FORMAT, ERROR_BAD_PARAMETERS, ERROR_ITEM_NOT_FOUND, ERROR_GENERIC, ERROR_ACCESS_DENIED } from "../lib/status";
import { lastError, lastErrorReason } from "../lib/error";
import * as keyring from "./keyring";
import { Op, allowed } from "./policy";
import { checkAndCount, hasLimits } from "./limits";

export function decodeFailed(reply: Reply, what: string): void {
  reply.fail(ERROR_BAD_FORMAT, "malformed " + what + " (decode error " + lastDecodeError().toString() + ")");
}

export function storageFailed(reply: Reply, what: string): void {
  const s = <u32>keyring.storageStatus;
  reply.fail(s == 0 ? ERROR_GENERIC : s, what + " failed in sealed storage");
}

/** Reports the last ta/lib algorithm failure (its reason names the field, never key material). */
export function algorithmFailed(reply: Reply, what: string): void {
  const code = lastError();
  reply.fail(code == 0 ? ERROR_GENERIC : code, what + ": " + (lastErrorReason().length ? lastErrorReason() : "failed"));
}

export function badKeyId(reply: Reply, id: string): bool {
  if (keyring.validKeyId(id)) return false;
  reply.fail(ERROR_BAD_PARAMETERS, "key_id must be 1..48 characters of [A-Za-z0-9._-]");
  return true;
}

/** Loads a key for an operation: exists, usage permits op, limits allow a use now (counted). */
export function keyFor(reply: Reply, keyId: string, op: Op, role: string): StoredKey | null {
  if (badKeyId(reply, keyId)) return null;
  const rec = keyring.load(keyId);
  if (!rec) {
    if (keyring.storageStatus == <i32>ERROR_ITEM_NOT_FOUND) reply.fail(ERROR_ITEM_NOT_FOUND, "no " + role + " with key_id " + keyId);
    else storageFailed(reply, "reading the " + role);
    return null;
  }
  const why = allowed(rec.info!.attributes!, op);
  if (why.length) { rec.material.fill(0); reply.fail(ERROR_ACCESS_DENIED, role + " " + keyId + ": " + why); return null; }
  const lim = checkAndCount(rec);
  if (lim.length) { rec.material.fill(0); reply.fail(ERROR_ACCESS_DENIED, role + " " + keyId + ": " + lim); return null; }
  if (hasLimits(rec) && keyring.save(rec) < 0) { rec.material.fill(0); storageFailed(reply, "counting the key use"); return null; }
  return rec;
}
