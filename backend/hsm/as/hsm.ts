// @ts-nocheck — AssemblyScript, compiled by asc (backend/hsm/wasm.ts), not by tsc.
// The software HSM's algorithm module: the same AssemblyScript as the TAs (ta/lib TR-31, AES
// DUKPT, KCV; ta/attest key agreement) compiled to a host-side Wasm module, so the back end has
// no second implementation. Bytes go in and out through one static buffer; the host (wasm.ts)
// wipes it after every call. Exports return a length >= 0 or a GP status < 0; lastReason()
// explains a failure.
import { fixedInfo, deriveKeys, macTag } from "../../../ta/attest/kek";
import { initialKey, derivationKey, verifyMac, aesKeyTypeOf } from "../../../ta/lib/dukpt-aes";
import { wrapHeader } from "../../../ta/lib/tr31";
import { Tr31Header } from "../../../ta/lib/tr31-header";
import { kcv } from "../../../ta/lib/kcv";
import { lastError, lastErrorReason } from "../../../ta/lib/error";
import { toHex, wipe } from "../../../ta/lib/bytes";

export const IO_CAP: i32 = 16384;
const io = memory.data(IO_CAP, 16);
let reason: string = "";

export function io_buf(): usize { return io; }
export function io_cap(): i32 { return IO_CAP; }

function input(off: i32, len: i32): Uint8Array {
  const b = new Uint8Array(len);
  memory.copy(b.dataStart, io + <usize>off, <usize>len);
  return b;
}

function output(parts: Uint8Array[]): i32 {
  let n = 0;
  for (let i = 0; i < parts.length; i++) {
    memory.copy(io + <usize>n, parts[i].dataStart, <usize>parts[i].length);
    n += parts[i].length;
  }
  return n;
}

function failed(what: string): i32 {
  const c = lastError();
  reason = what + ": " + lastErrorReason();
  return c == 0 ? -1 : <i32>c;
}

/** Length of the last failure's reason, written into io. */
export function last_reason(): i32 {
  const b = Uint8Array.wrap(String.UTF8.encode(reason));
  return output([b]);
}

/** in: Z || U || V || session_id  out: KEK(32) || KCK(32) || MacTag_V(32) || MacTag_U(32). */
export function agree(zLen: i32, uLen: i32, vLen: i32, sLen: i32): i32 {
  if (zLen + uLen + vLen + sLen > IO_CAP) { reason = "agree: input too long"; return -1; }
  const z = input(0, zLen);
  const u = input(zLen, uLen);
  const v = input(zLen + uLen, vLen);
  const sid = input(zLen + uLen + vLen, sLen);
  const fixed = fixedInfo(u, v, sid);
  if (!fixed) { wipe(z); reason = "agree: fixed info too long"; return -1; }
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
  if (ksnLen != 12) { wipe(bdk); reason = "DUKPT MAC: the AES DUKPT KSN is 12 bytes"; return <i32>0xffff0006; }
  const ik = initialKey(bdk, ksn.subarray(0, 8));
  wipe(bdk);
  if (!ik) return failed("initial key derivation");
  const dk = derivationKey(ik, ksn);
  const keyType = aesKeyTypeOf(ik.length);
  wipe(ik);
  if (!dk) return failed("derivation key");
  const ok = verifyMac(dk, ksn, keyType, data, mac, false);
  wipe(dk);
  if (!ok) return failed("DUKPT MAC");
  return 0;
}
