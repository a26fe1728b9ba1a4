// The keystore's sealed key records: one sealed-storage object per key, id "key/<key_id>".
// Clear key material exists only here and inside sealed storage.
import * as host from "../lib/host";
import { bytesOf } from "../lib/bytes";
import { StoredKey } from "../../proto/gen/as/keystore_sealed";
import { KeyInfo } from "../../proto/gen/as/keystore";
import { ERROR_ITEM_NOT_FOUND, ERROR_CORRUPT_OBJECT } from "../lib/status";

const PREFIX = "key/";
export const MAX_KEY_ID = 48;

/** Key ids are 1..48 characters from [A-Za-z0-9._-], so they are safe in storage ids and logs. */
export function validKeyId(id: string): bool {
  if (id.length == 0 || id.length > MAX_KEY_ID) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 45;
    if (!ok) return false;
  }
  return true;
}

function objectId(keyId: string): Uint8Array {
  return bytesOf(PREFIX + keyId);
}

/** Last storage status of load()/save()/remove() (0 = success, else a GP status as i32). */
export let storageStatus: i32 = 0;

export function load(keyId: string): StoredKey | null {
  const id = objectId(keyId);
  const size = host.storage_size(id.dataStart, id.length);
  if (size < 0) { storageStatus = size; return null; }
  const buf = new Uint8Array(size);
  const n = host.storage_read(id.dataStart, id.length, buf.dataStart, buf.length);
  if (n < 0) { storageStatus = n; buf.fill(0); return null; }
  const rec = StoredKey.decode(buf);
  buf.fill(0);
  if (!rec || !rec.info) { storageStatus = <i32>ERROR_CORRUPT_OBJECT; return null; }
  storageStatus = 0;
  return rec;
}

export function exists(keyId: string): bool {
  const id = objectId(keyId);
  return host.storage_size(id.dataStart, id.length) >= 0;
}

export function save(rec: StoredKey): i32 {
  const id = objectId(rec.info!.keyId);
  const data = rec.encode();
  storageStatus = host.storage_write(id.dataStart, id.length, data.dataStart, data.length);
  data.fill(0);
  return storageStatus;
}

export function remove(keyId: string): i32 {
  const id = objectId(keyId);
  storageStatus = host.storage_delete(id.dataStart, id.length);
  return storageStatus;
}

/** Every stored key's public info (never its material), in storage-id order. */
export function listInfos(): Array<KeyInfo> {
  const out = new Array<KeyInfo>();
  let cap = 4096;
  let buf = new Uint8Array(cap);
  let n = host.storage_list(buf.dataStart, cap);
  while (n == <i32>0xffff0010) { // SHORT_BUFFER: grow and retry
    cap *= 4;
    buf = new Uint8Array(cap);
    n = host.storage_list(buf.dataStart, cap);
  }
  if (n < 0) { storageStatus = n; return out; }
  let p = 0;
  while (p < n) {
    const len = <i32>buf[p++];
    const name = String.UTF8.decodeUnsafe(buf.dataStart + p, len);
    p += len;
    if (!name.startsWith(PREFIX)) continue;
    const rec = load(name.substring(PREFIX.length));
    if (rec) { rec.material.fill(0); out.push(rec.info!); }
  }
  storageStatus = 0;
  return out;
}

export { ERROR_ITEM_NOT_FOUND };
