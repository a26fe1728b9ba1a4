// @ts-nocheck — AssemblyScript, compiled by asc (backend/hsm/wasm.ts), not by tsc.
// The issuer side's EMV primitives (backend/issuer): the ta/lib block cipher calls, ISO/IEC
// 9797-1 padding and MAC algorithm 3, the legacy TDES KCV and the ISO 9564-1 format 2 PIN block,
// exported from the HSM module so the back end and the card simulators run the trusted apps' own
// code instead of a TypeScript copy. Same I/O convention as hsm.ts: inputs laid end to end in
// the I/O buffer, a length >= 0 or a GP status < 0 back, the reason in last_reason().
import { TDES_ECB, TDES_CBC, SM4_ECB, SM4_CBC, encrypt, decrypt, cipherStatus } from "../../../ta/lib/cipher";
import { pad, unpadMethod2Length } from "../../../ta/lib/padding";
import { retailMac, macAlg1 } from "../../../ta/lib/mac-iso9797";
import { kcvLegacyTdes } from "../../../ta/lib/kcv";
import { encodeFormat2, decodeFormat2, pinBlockErrorMessage } from "../../../ta/lib/pinblock";
import { wipe } from "../../../ta/lib/bytes";
import { input, output, failed, setReason } from "./io";

const BAD_PARAMETERS: i32 = <i32>0xffff0006;

/** One block-cipher pass for tdes() and sm4(): ECB when there is no IV, CBC with one. */
function cipherPass(name: string, ecb: u32, cbc: u32, keyLen: i32, ivLen: i32, dataLen: i32, decryptIt: i32): i32 {
  const key = input(0, keyLen);
  const iv = ivLen ? input(keyLen, ivLen) : null;
  const data = input(keyLen + ivLen, dataLen);
  const alg = iv ? cbc : ecb;
  const out = decryptIt ? decrypt(alg, key, data, iv) : encrypt(alg, key, data, iv);
  wipe(key);
  wipe(data);
  if (!out) { setReason(name + ": the host cipher refused the key, IV or data length"); return cipherStatus < 0 ? cipherStatus : BAD_PARAMETERS; }
  const n = output([out!]);
  wipe(out!);
  return n;
}

/** in: key (16/24) || IV (0 for ECB, 8 for CBC) || data (whole 8-byte blocks)  out: the data
 * enciphered (decrypt = 0) or deciphered (decrypt = 1) with TDES in ECB or CBC mode. */
export function tdes(keyLen: i32, ivLen: i32, dataLen: i32, decryptIt: i32): i32 {
  return cipherPass("TDES", TDES_ECB, TDES_CBC, keyLen, ivLen, dataLen, decryptIt);
}

/** in: key (16) || IV (0 for ECB, 16 for CBC) || data (whole 16-byte blocks)  out: the data
 * enciphered (decrypt = 0) or deciphered (decrypt = 1) with SM4 (GB/T 32907) in ECB or CBC
 * mode — the block cipher of PBOC national-algorithm (SM) cards. */
export function sm4(keyLen: i32, ivLen: i32, dataLen: i32, decryptIt: i32): i32 {
  return cipherPass("SM4", SM4_ECB, SM4_CBC, keyLen, ivLen, dataLen, decryptIt);
}

/** in: SM4 key (16) || data  out: the 16-byte ISO/IEC 9797-1 MAC algorithm 1 block with SM4
 * (the PBOC-SM4-MAC of SM cards' cryptograms and script MACs; callers take its leftmost bytes)
 * with the given padding method. */
export function sm4_mac(keyLen: i32, dataLen: i32, method: i32): i32 {
  const key = input(0, keyLen);
  const data = input(keyLen, dataLen);
  const mac = macAlg1(SM4_CBC, key, data, method);
  wipe(key);
  wipe(data);
  if (!mac) return failed("SM4 MAC (ISO 9797-1 algorithm 1)");
  const n = output([mac!]);
  wipe(mac!);
  return n;
}

/** in: data  out: data padded with ISO/IEC 9797-1 padding method 1, 2 or 3 to blockLen. */
export function iso9797_pad(dataLen: i32, method: i32, blockLen: i32): i32 {
  const data = input(0, dataLen);
  const p = pad(data, method, blockLen);
  wipe(data);
  if (!p) return failed("ISO 9797-1 padding");
  const n = output([p!]);
  wipe(p!);
  return n;
}

/** in: a method-2 padded message  out: the data inside it; BAD_PARAMETERS when the message is
 * not padded with method 2 to blockLen (a wrong key or tampered data, for deciphered data). */
export function iso9797_unpad_method_2(paddedLen: i32, blockLen: i32): i32 {
  const p = input(0, paddedLen);
  const n = unpadMethod2Length(p, blockLen);
  if (n < 0) { wipe(p); setReason("ISO 9797-1 padding method 2: the data is not padded that way"); return BAD_PARAMETERS; }
  const out = output([p.subarray(0, n)]);
  wipe(p);
  return out;
}

/** in: K || K' (16) || data  out: the 8-byte ISO/IEC 9797-1 MAC algorithm 3 (X9.19 retail MAC)
 * with the given padding method. */
export function retail_mac(keyLen: i32, dataLen: i32, method: i32): i32 {
  const key = input(0, keyLen);
  const data = input(keyLen, dataLen);
  const mac = retailMac(key, data, method);
  wipe(key);
  wipe(data);
  if (!mac) return failed("retail MAC");
  return output([mac!]);
}

/** in: a TDES key (16/24)  out: its legacy KCV, the leftmost 3 bytes of TDES-ECB(key, 0..0). */
export function kcv_tdes(keyLen: i32): i32 {
  const key = input(0, keyLen);
  const c = kcvLegacyTdes(key);
  wipe(key);
  if (!c) { setReason("KCV: the host cipher refused the key"); return BAD_PARAMETERS; }
  return output([c!]);
}

/** in: PIN digits (values 0..9)  out: the ISO 9564-1 format 2 PIN block (8 bytes). */
export function pin_block_format2(pinLen: i32): i32 {
  const pin = input(0, pinLen);
  const block = new Uint8Array(8);
  const r = encodeFormat2(pin, block);
  wipe(pin);
  if (r < 0) { setReason("PIN block format 2: " + pinBlockErrorMessage(r)); return BAD_PARAMETERS; }
  const n = output([block]);
  wipe(block);
  return n;
}

/** in: an ISO 9564-1 format 2 PIN block (8 bytes)  out: its PIN digits (values 0..9). */
export function pin_block_format2_decode(blockLen: i32): i32 {
  const block = input(0, blockLen);
  const digits = new Uint8Array(12);
  const r = decodeFormat2(block, digits);
  wipe(block);
  if (r < 0) { wipe(digits); setReason("PIN block format 2: " + pinBlockErrorMessage(r)); return BAD_PARAMETERS; }
  const n = output([digits.subarray(0, r)]);
  wipe(digits);
  return n;
}
