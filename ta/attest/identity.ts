// The device identity key (ECDSA P-256): made here on first use with the TEE's generator, kept
// in this TA's sealed storage, never exported. Also holds the OEM chain that certifies it and
// the back end's pinned key-agreement key.
import * as host from "../lib/host";
import { bytesOf, wipe } from "../lib/bytes";
import { ERROR_ITEM_NOT_FOUND, ERROR_CORRUPT_OBJECT } from "../lib/status";

const ID_KEY = "identity";
const ID_CHAIN = "oem-chain";
const ID_BACKEND = "backend-key";

export const PRIV_LEN = 32;
export const PUB_LEN = 65;

/** Last status (0 or a GP status as i32) of a failed operation here. */
export let lastStatus: i32 = 0;

function read(name: string, maxLen: i32): Uint8Array | null {
  const id = bytesOf(name);
  const size = host.storage_size(id.dataStart, id.length);
  if (size < 0) { lastStatus = size; return null; }
  if (size > maxLen) { lastStatus = <i32>ERROR_CORRUPT_OBJECT; return null; }
  const buf = new Uint8Array(size);
  const n = host.storage_read(id.dataStart, id.length, buf.dataStart, buf.length);
  if (n < 0) { lastStatus = n; wipe(buf); return null; }
  return buf;
}

function write(name: string, data: Uint8Array): i32 {
  const id = bytesOf(name);
  lastStatus = host.storage_write(id.dataStart, id.length, data.dataStart, data.length);
  return lastStatus;
}

export class Identity {
  constructor(public priv: Uint8Array, public pub: Uint8Array) {}
  wipe(): void { wipe(this.priv); }
}

/** Loads the identity key, creating it on first use; null on a storage failure (lastStatus). */
export function loadOrCreate(): Identity | null {
  const rec = read(ID_KEY, PRIV_LEN + PUB_LEN);
  if (rec) {
    if (rec.length != PRIV_LEN + PUB_LEN) { wipe(rec); lastStatus = <i32>ERROR_CORRUPT_OBJECT; return null; }
    const id = new Identity(rec.slice(0, PRIV_LEN), rec.slice(PRIV_LEN));
    wipe(rec);
    return id;
  }
  if (lastStatus != <i32>ERROR_ITEM_NOT_FOUND) return null; // tampered or rolled back: never replace
  const priv = new Uint8Array(PRIV_LEN);
  const pub = new Uint8Array(PUB_LEN);
  const s = host.ecc_generate(host.CURVE_NIST_P256, priv.dataStart, pub.dataStart);
  if (s < 0) { lastStatus = s; wipe(priv); return null; }
  const blob = new Uint8Array(PRIV_LEN + PUB_LEN);
  blob.set(priv, 0);
  blob.set(pub, PRIV_LEN);
  const w = write(ID_KEY, blob);
  wipe(blob);
  if (w < 0) { wipe(priv); return null; }
  return new Identity(priv, pub);
}

/** The OEM chain for the identity key: from storage, else asked of the host and stored. */
export function oemChain(pub: Uint8Array): Uint8Array | null {
  const have = read(ID_CHAIN, 8192);
  if (have) return have;
  if (lastStatus != <i32>ERROR_ITEM_NOT_FOUND) return null;
  const out = new Uint8Array(8192);
  const n = host.oem_certify(pub.dataStart, pub.length, out.dataStart, out.length);
  if (n < 0) { lastStatus = n; return null; }
  const chain = out.slice(0, n);
  if (write(ID_CHAIN, chain) < 0) return null;
  return chain;
}

/** The pinned back-end key-agreement public key, or null (lastStatus ITEM_NOT_FOUND if none). */
export function backendKey(): Uint8Array | null {
  return read(ID_BACKEND, PUB_LEN);
}

export function pinBackendKey(pub: Uint8Array): i32 {
  return write(ID_BACKEND, pub);
}
