// @ts-nocheck — AssemblyScript, compiled by asc (backend/hsm/wasm.ts), not by tsc.
// The software HSM's algorithm module: the same AssemblyScript as the TAs (ta/lib TR-31, AES
// DUKPT, KCV, the RKI key agreement; and, in emv.ts, the TDES, ISO 9797-1 MAC and PIN block
// calls of the issuer side) compiled to a host-side Wasm module, so the back end has no second
// implementation. Bytes go in and out through one static buffer; the host (wasm.ts)
// wipes it after every call. Exports return a length >= 0 or a GP status < 0; lastReason()
// explains a failure.
import { fixedInfo, deriveKeys, macTag } from "../../../ta/lib/kek";
import { initialKey, derivationKey, verifyMac, aesKeyTypeOf, dataCipher, workingKey, USAGE_PIN_ENCRYPTION } from "../../../ta/lib/dukpt-aes";
import { panFieldFormat4, pinFieldFormat4, decipherFormat4, encipherFormat4 } from "../../../ta/lib/pinblock";
import { cmac } from "../../../ta/lib/cmac";
import { AES_ECB } from "../../../ta/lib/cipher";
import { wrapHeader } from "../../../ta/lib/tr31";
import { Tr31Header } from "../../../ta/lib/tr31-header";
import { kcv } from "../../../ta/lib/kcv";
import { toHex, wipe, equalCT } from "../../../ta/lib/bytes";
import { unpadMethod2Length } from "../../../ta/lib/padding";
import { IO_CAP, input, output, failed, setReason } from "./io";

export { io_buf, io_cap, last_reason } from "./io";
export { tdes, sm4, iso9797_pad, iso9797_unpad_method_2, retail_mac, sm4_mac, kcv_tdes, pin_block_format2, pin_block_format2_decode } from "./emv";

/** The receiver's derivation key of a KSN from the BDK (X9.24-3: initial key, then one step per
 * counter bit); wipes the BDK and the initial key. Null with `derivationStatus` set on failure. */
let derivationStatus: i32 = 0;
function receiverDerivationKey(bdk: Uint8Array, ksn: Uint8Array): Uint8Array | null {
  const ik = initialKey(bdk, ksn.subarray(0, 8));
  wipe(bdk);
  if (!ik) { derivationStatus = failed("initial key derivation"); return null; }
  const dk = derivationKey(ik, ksn);
  wipe(ik);
  if (!dk) { derivationStatus = failed("derivation key"); return null; }
  return dk;
}

/** in: Z || U || V || session_id  out: KEK(32) || KCK(32) || MacTag_V(32) || MacTag_U(32). */
export function agree(zLen: i32, uLen: i32, vLen: i32, sLen: i32): i32 {
  if (zLen + uLen + vLen + sLen > IO_CAP) { setReason("agree: input too long"); return -1; }
  const z = input(0, zLen);
  const u = input(zLen, uLen);
  const v = input(zLen + uLen, vLen);
  const sid = input(zLen + uLen + vLen, sLen);
  const fixed = fixedInfo(u, v, sid);
  if (!fixed) { wipe(z); setReason("agree: fixed info too long"); return -1; }
  const keys = deriveKeys(z, fixed);
  wipe(z);
  const tagV = macTag(keys.kck, "KC_1_V", v, u, sid);
  const tagU = macTag(keys.kck, "KC_1_U", u, v, sid);
  const n = output([keys.kek, keys.kck, tagV, tagU]);
  keys.wipe();
  return n;
}

/** in: BDK || initial key ID (8) || KEK  out: KCV(5) || TR-31 D block (usage B1, AES, mode X,
 * optional block IK = the initial key ID). */
export function wrap_dukpt_ik(bdkLen: i32, ikidLen: i32, kekLen: i32): i32 {
  const bdk = input(0, bdkLen);
  const ikid = input(bdkLen, ikidLen);
  const kek = input(bdkLen + ikidLen, kekLen);
  const ik = initialKey(bdk, ikid);
  wipe(bdk);
  if (!ik) { wipe(kek); return failed("initial key derivation"); }
  const check = kcv(ik, true);
  const h = new Tr31Header();
  h.version = 0x44; // D
  h.keyUsage = "B1";
  h.algorithm = 0x41; // A: AES
  h.modeOfUse = 0x58; // X: key derivation
  h.keyVersion = "00";
  h.exportability = 0x4e; // N
  h.addBlock("IK", toHex(ikid));
  h.alignTo(16);
  const block = wrapHeader(h, kek, ik, null, 0);
  wipe(ik);
  wipe(kek);
  if (!block || !check) return failed("TR-31 wrap");
  return output([check!, block!]);
}

/** in: an AES key  out: its AES-CMAC KCV (5 bytes). */
export function kcv_aes(len: i32): i32 {
  const k = input(0, len);
  const c = kcv(k, true);
  wipe(k);
  if (!c) return failed("KCV");
  return output([c!]);
}

/** in: BDK || KSN (12: initial key ID || counter) || MAC (4..16) || data  out: nothing (0 bytes)
 * when the AES-CMAC under the DUKPT MAC generation key of that KSN matches, else ERROR_MAC_INVALID. */
export function dukpt_aes_verify_mac(bdkLen: i32, ksnLen: i32, macLen: i32, dataLen: i32): i32 {
  const bdk = input(0, bdkLen);
  const ksn = input(bdkLen, ksnLen);
  const mac = input(bdkLen + ksnLen, macLen);
  const data = input(bdkLen + ksnLen + macLen, dataLen);
  if (ksnLen != 12) { wipe(bdk); setReason("DUKPT MAC: the AES DUKPT KSN is 12 bytes"); return <i32>0xffff0006; }
  const dk = receiverDerivationKey(bdk, ksn);
  if (!dk) return derivationStatus;
  const keyType = aesKeyTypeOf(dk.length);
  const ok = verifyMac(dk, ksn, keyType, data, mac, false);
  wipe(dk);
  if (!ok) return failed("DUKPT MAC");
  return 0;
}

// ---------------------------------------------------------------- authorization (issue 7)

/** in: BDK || KSN (12) || ciphertext (a multiple of 16)  out: the clear data, ISO 9797-1
 * padding method 2 removed. AES-CBC, zero IV, under the DUKPT data-encryption request key
 * (usage 3000) of that KSN — the inverse of the keystore's DUKPT_ENCRYPT_DATA. */
export function dukpt_aes_decrypt_data(bdkLen: i32, ksnLen: i32, dataLen: i32): i32 {
  const bdk = input(0, bdkLen);
  const ksn = input(bdkLen, ksnLen);
  const data = input(bdkLen + ksnLen, dataLen);
  if (ksnLen != 12) { wipe(bdk); setReason("DUKPT data: the AES DUKPT KSN is 12 bytes"); return <i32>0xffff0006; }
  const dk = receiverDerivationKey(bdk, ksn);
  if (!dk) return derivationStatus;
  const keyType = aesKeyTypeOf(dk.length);
  const clear = dataCipher(dk, ksn, keyType, data, new Uint8Array(16), false, true);
  wipe(dk);
  if (!clear) return failed("DUKPT data decryption");
  const end = unpadMethod2Length(clear, 16);
  if (end < 0) { wipe(clear); setReason("DUKPT data: bad padding (wrong key or tampered data)"); return <i32>0xffff3071; }
  const n = output([clear.subarray(0, end)]);
  wipe(clear);
  return n;
}

/** in: BDK || KSN (12) || MAC (4..16) || record || ciphertext (a multiple of 16)  out: 0 then the
 * clear data (as dukpt_aes_decrypt_data), or the single byte 1 when the MAC verifies but the
 * data does not decrypt; ERROR_MAC_INVALID when the MAC does not verify (nothing decrypted).
 * dukpt_aes_verify_mac and dukpt_aes_decrypt_data of one txsign record with the KSN's
 * derivation key derived once: X9.24-3 derives both working keys from it, and the derivation
 * (initial key, then one AES step per counter bit) is most of either call's cost. */
export function dukpt_aes_open_record(bdkLen: i32, ksnLen: i32, macLen: i32, recordLen: i32, dataLen: i32): i32 {
  const bdk = input(0, bdkLen);
  const ksn = input(bdkLen, ksnLen);
  const mac = input(bdkLen + ksnLen, macLen);
  const record = input(bdkLen + ksnLen + macLen, recordLen);
  const data = input(bdkLen + ksnLen + macLen + recordLen, dataLen);
  if (ksnLen != 12) { wipe(bdk); setReason("DUKPT record: the AES DUKPT KSN is 12 bytes"); return <i32>0xffff0006; }
  const dk = receiverDerivationKey(bdk, ksn);
  if (!dk) return derivationStatus;
  const keyType = aesKeyTypeOf(dk.length);
  if (!verifyMac(dk, ksn, keyType, record, mac, false)) { wipe(dk); return failed("DUKPT MAC"); }
  const clear = dataCipher(dk, ksn, keyType, data, new Uint8Array(16), false, true);
  wipe(dk);
  const end = clear ? unpadMethod2Length(clear!, 16) : -1;
  if (end < 0) {
    if (clear) wipe(clear!);
    const n = new Uint8Array(1);
    n[0] = 1;
    return output([n]);
  }
  const status = new Uint8Array(1);
  const n = output([status, clear!.subarray(0, end)]);
  wipe(clear!);
  return n;
}

/** The canonical PIN verification input: format 4 PAN field || format 4 PIN field with its
 * random half zeroed. null if the PIN or PAN digits are invalid. */
function pvvInput(pan: Uint8Array, pin: Uint8Array): Uint8Array | null {
  const panField = new Uint8Array(16);
  if (panFieldFormat4(pan, panField) < 0) return null;
  const pinField = new Uint8Array(16);
  if (pinFieldFormat4(pin, pinField, new Uint8Array(8)) < 0) { wipe(pinField); return null; }
  const buf = new Uint8Array(32);
  buf.set(panField, 0);
  buf.set(pinField, 16);
  wipe(pinField);
  return buf;
}

/** PIN verification value: the first 8 bytes of AES-CMAC(PVK, pvvInput). The issuer stores it;
 * the PIN itself is never stored. */
function pvvOf(pvk: Uint8Array, pan: Uint8Array, pin: Uint8Array): Uint8Array | null {
  const x = pvvInput(pan, pin);
  if (!x) return null;
  const m = cmac(AES_ECB, pvk, x, 16);
  wipe(x);
  if (!m) return null;
  const out = m.slice(0, 8);
  wipe(m);
  return out;
}

/** Issuance. in: PVK || PAN digits (values 0..9) || PIN digits (values 0..9)  out: PVV (8). */
export function pin_verification_value(pvkLen: i32, panLen: i32, pinLen: i32): i32 {
  const pvk = input(0, pvkLen);
  const pan = input(pvkLen, panLen);
  const pin = input(pvkLen + panLen, pinLen);
  const v = pvvOf(pvk, pan, pin);
  wipe(pvk);
  wipe(pin);
  if (!v) { setReason("PVV: PIN must be 4..12 digits, PAN 12..19 digits"); return <i32>0xffff0006; }
  return output([v!]);
}

/** Authorization. in: BDK || KSN (12) || PIN block (16) || PAN digits (values 0..9) || PVK ||
 * PVV (8). Decrypts the ISO 9564 format 4 block under the DUKPT PIN key (usage 1000) of the
 * KSN with the PAN field of that PAN, computes the PVV of the PIN and compares it in constant
 * time. out: one byte — 0 the PIN matches, 1 it does not, 2 the block is not a format 4 PIN
 * block for this PAN (wrong key, PAN or tampering). The clear PIN never leaves this module. */
export function dukpt_aes_verify_pin(bdkLen: i32, ksnLen: i32, blockLen: i32, panLen: i32, pvkLen: i32, pvvLen: i32): i32 {
  let o = 0;
  const bdk = input(o, bdkLen); o += bdkLen;
  const ksn = input(o, ksnLen); o += ksnLen;
  const block = input(o, blockLen); o += blockLen;
  const pan = input(o, panLen); o += panLen;
  const pvk = input(o, pvkLen); o += pvkLen;
  const pvv = input(o, pvvLen);
  if (ksnLen != 12 || blockLen != 16 || pvvLen != 8) { wipe(bdk); wipe(pvk); setReason("PIN verify: KSN 12, block 16 and PVV 8 bytes"); return <i32>0xffff0006; }
  const dk = receiverDerivationKey(bdk, ksn);
  if (!dk) { wipe(pvk); return derivationStatus; }
  const keyType = aesKeyTypeOf(dk.length);
  const pinKey = workingKey(dk, ksn, USAGE_PIN_ENCRYPTION, keyType);
  wipe(dk);
  if (!pinKey) { wipe(pvk); return failed("PIN key"); }
  const digits = new Uint8Array(12);
  const n = decipherFormat4(pinKey, block, pan, digits);
  wipe(pinKey);
  const verdict = new Uint8Array(1);
  if (n < 0) {
    verdict[0] = 2;
  } else {
    const pin = digits.subarray(0, n);
    const v = pvvOf(pvk, pan, pin);
    verdict[0] = v != null && equalCT(v!, pvv) ? 0 : 1;
    if (v) wipe(v!);
  }
  wipe(digits);
  wipe(pvk);
  return output([verdict]);
}

/** Issue 16 §1, an acquirer's upstream route: PIN translation (ISO 9564-1 §9.4, format 4 to format
 * 4). in: BDK || KSN (12) || PIN block (16) || PAN digits (values 0..9) || ZPK (AES, 16/24/32) ||
 * random (8, the new block's fill). Deciphers the block under the DUKPT PIN key (usage 1000) of the
 * KSN and enciphers the same PIN under the zone PIN key, in one call: the clear PIN exists only in
 * this module's memory and is wiped. out: status (1: 0 translated, 2 not a format 4 PIN block for
 * this PAN under this key) || the new block (16, zeros unless translated). */
export function dukpt_aes_translate_pin(bdkLen: i32, ksnLen: i32, blockLen: i32, panLen: i32, zpkLen: i32, rndLen: i32): i32 {
  let o = 0;
  const bdk = input(o, bdkLen); o += bdkLen;
  const ksn = input(o, ksnLen); o += ksnLen;
  const block = input(o, blockLen); o += blockLen;
  const pan = input(o, panLen); o += panLen;
  const zpk = input(o, zpkLen); o += zpkLen;
  const rnd = input(o, rndLen);
  if (ksnLen != 12 || blockLen != 16 || rndLen != 8) { wipe(bdk); wipe(zpk); setReason("PIN translate: KSN 12, block 16 and random 8 bytes"); return <i32>0xffff0006; }
  const dk = receiverDerivationKey(bdk, ksn);
  if (!dk) { wipe(zpk); return derivationStatus; }
  const pinKey = workingKey(dk, ksn, USAGE_PIN_ENCRYPTION, aesKeyTypeOf(dk.length));
  wipe(dk);
  if (!pinKey) { wipe(zpk); return failed("PIN key"); }
  const digits = new Uint8Array(12);
  const n = decipherFormat4(pinKey, block, pan, digits);
  wipe(pinKey);
  const status = new Uint8Array(1);
  const out = new Uint8Array(16);
  if (n < 0) {
    status[0] = 2;
  } else {
    const pin = digits.subarray(0, n);
    if (encipherFormat4(zpk, pin, pan, out, rnd) != 0) { status[0] = 2; out.fill(0); }
  }
  wipe(digits);
  wipe(zpk);
  wipe(rnd);
  return output([status, out]);
}

/** The issuer side of a translated PIN: in: ZPK || PIN block (16) || PAN digits || PVK || PVV (8).
 * Deciphers the format 4 block under the zone PIN key and compares the PIN's PVV in constant time.
 * out: one byte, as dukpt_aes_verify_pin (0 match, 1 mismatch, 2 not a format 4 block for this PAN). */
export function zpk_verify_pin(zpkLen: i32, blockLen: i32, panLen: i32, pvkLen: i32, pvvLen: i32): i32 {
  let o = 0;
  const zpk = input(o, zpkLen); o += zpkLen;
  const block = input(o, blockLen); o += blockLen;
  const pan = input(o, panLen); o += panLen;
  const pvk = input(o, pvkLen); o += pvkLen;
  const pvv = input(o, pvvLen);
  if (blockLen != 16 || pvvLen != 8) { wipe(zpk); wipe(pvk); setReason("PIN verify: block 16 and PVV 8 bytes"); return <i32>0xffff0006; }
  const digits = new Uint8Array(12);
  const n = decipherFormat4(zpk, block, pan, digits);
  wipe(zpk);
  const verdict = new Uint8Array(1);
  if (n < 0) {
    verdict[0] = 2;
  } else {
    const v = pvvOf(pvk, pan, digits.subarray(0, n));
    verdict[0] = v != null && equalCT(v!, pvv) ? 0 : 1;
    if (v) wipe(v!);
  }
  wipe(digits);
  wipe(pvk);
  return output([verdict]);
}
