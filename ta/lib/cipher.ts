// Block ciphers (AES, TDES, SM4; ECB and CBC, no padding) on the host's GP-style operations.
// One operation per call keeps key lifetimes short. Each call is one host call, cipher_once
// (host ABI 1.3): DUKPT and TR-31 steps take a new key every one or two blocks, so three host
// calls per step (init, update, free) cost more than the block.
import * as host from "./host";
import { ERROR_BAD_PARAMETERS } from "./status";

export const AES_ECB = host.ALG_AES_ECB_NOPAD;
export const AES_CBC = host.ALG_AES_CBC_NOPAD;
export const TDES_ECB = host.ALG_DES3_ECB_NOPAD;
export const TDES_CBC = host.ALG_DES3_CBC_NOPAD;
export const SM4_ECB = host.ALG_SM4_ECB_NOPAD;
export const SM4_CBC = host.ALG_SM4_CBC_NOPAD;

/** Thrown-free error channel: the last cipher status (0 = success). */
export let cipherStatus: i32 = 0;

/** Runs alg/mode over data (a multiple of the block size); null on a host error. */
export function cipher(alg: u32, mode: u32, key: Uint8Array, iv: Uint8Array | null, data: Uint8Array): Uint8Array | null {
  const ivPtr = iv ? iv.dataStart : 0;
  const ivLen = iv ? iv.length : 0;
  const out = new Uint8Array(data.length);
  const r = host.cipher_once(alg, mode, key.dataStart, key.length, ivPtr, ivLen, data.dataStart, data.length, out.dataStart);
  if (r < 0) { cipherStatus = r; return null; }
  cipherStatus = 0;
  return out;
}

/** The same over the first len bytes of buf, in place, under the first keyLen bytes of key (the
 * host reads all input before it writes): no allocation, for derivation loops that reuse static
 * buffers. False on a host error (cipherStatus). */
export function cipherInPlace(alg: u32, mode: u32, key: Uint8Array, keyLen: i32, iv: Uint8Array | null, buf: Uint8Array, len: i32): bool {
  if (keyLen > key.length || len > buf.length) { cipherStatus = <i32>ERROR_BAD_PARAMETERS; return false; }
  const r = host.cipher_once(alg, mode, key.dataStart, keyLen, iv ? iv.dataStart : 0, iv ? iv.length : 0, buf.dataStart, len, buf.dataStart);
  cipherStatus = r < 0 ? r : 0;
  return r >= 0;
}

export function encrypt(alg: u32, key: Uint8Array, data: Uint8Array, iv: Uint8Array | null = null): Uint8Array | null {
  return cipher(alg, host.MODE_ENCRYPT, key, iv, data);
}

export function decrypt(alg: u32, key: Uint8Array, data: Uint8Array, iv: Uint8Array | null = null): Uint8Array | null {
  return cipher(alg, host.MODE_DECRYPT, key, iv, data);
}

/** Block size in bytes of a cipher family (8 for TDES, 16 for AES and SM4). */
export function blockSize(alg: u32): i32 {
  return alg == TDES_ECB || alg == TDES_CBC ? 8 : 16;
}
