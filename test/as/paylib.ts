// Test harness over ta/lib's payment algorithms, for the vector runner and test/paylib. Calls
// pass byte strings through one static buffer: the caller writes [u32 argc]([u32 len][bytes])*
// at io(), calls a function with its integer options, and reads the results in the same layout.
// A function returns 0, or the GlobalPlatform status (as i32) with the reason in errorReason().
import { wipe, equalCT } from "../../ta/lib/bytes";
import { AES_ECB, TDES_ECB, AES_CBC, TDES_CBC } from "../../ta/lib/cipher";
import { cmac } from "../../ta/lib/cmac";
import { kcv } from "../../ta/lib/kcv";
import { pad } from "../../ta/lib/padding";
import { macAlg1, macAlg3, retailMac } from "../../ta/lib/mac-iso9797";
import * as dt from "../../ta/lib/dukpt-tdes";
import * as da from "../../ta/lib/dukpt-aes";
import { Originator } from "../../ta/lib/dukpt-originator";
import * as tr31 from "../../ta/lib/tr31";
import { kbpkVariant, kbpkDeriveTdes, kbpkDeriveAes, KeyPair } from "../../ta/lib/tr31-kbpk";
import { badParam, clearError, lastError, lastErrorReason } from "../../ta/lib/error";
import { panFieldFormat4 } from "../../ta/lib/pinblock";
import { ERROR_GENERIC } from "../../ta/lib/status";

const IO_SIZE: i32 = 1 << 17;
const io = memory.data(IO_SIZE);

export function ioPtr(): usize { return io; }
export function ioSize(): i32 { return IO_SIZE; }

let args = new Array<Uint8Array>();
let outs = new Array<Uint8Array>();

function readArgs(): void {
  args = new Array<Uint8Array>();
  outs = new Array<Uint8Array>();
  clearError();
  const n = load<u32>(io);
  let p = io + 4;
  for (let i: u32 = 0; i < n; i++) {
    const len = load<u32>(p);
    const a = new Uint8Array(len);
    memory.copy(a.dataStart, p + 4, len);
    args.push(a);
    p += 4 + len;
  }
}

function out(b: Uint8Array | null): bool {
  if (b == null) return false;
  outs.push(b);
  return true;
}

function finish(ok: bool): i32 {
  if (!ok) {
    const code = lastError();
    return code != 0 ? <i32>code : <i32>ERROR_GENERIC;
  }
  store<u32>(io, outs.length);
  let p = io + 4;
  for (let i = 0; i < outs.length; i++) {
    const b = outs[i];
    store<u32>(p, b.length);
    memory.copy(p + 4, b.dataStart, b.length);
    p += 4 + b.length;
  }
  // The harness hands keys to the test; wipe the wasm-side copies afterwards.
  for (let i = 0; i < args.length; i++) wipe(args[i]);
  for (let i = 0; i < outs.length; i++) wipe(outs[i]);
  return 0;
}

/** Writes the reason of the last failure into io; returns its length. */
export function errorReason(): i32 {
  const s = Uint8Array.wrap(String.UTF8.encode(lastErrorReason()));
  memory.copy(io, s.dataStart, s.length);
  return s.length;
}

// ---- ISO 9797-1 padding and MACs, CMAC, KCV ----
export function padData(method: i32, blockLen: i32): i32 {
  readArgs();
  return finish(out(pad(args[0], method, blockLen)));
}
/** aes: 0 = TDES (key 8/16/24), 1 = AES. */
export function mac1(aes: i32, padMethod: i32): i32 {
  readArgs();
  return finish(out(macAlg1(aes ? AES_CBC : TDES_CBC, args[0], args[1], padMethod)));
}
export function mac3(padMethod: i32): i32 {
  readArgs();
  return finish(out(macAlg3(args[0], args[1], args[2], padMethod)));
}
export function retail(padMethod: i32): i32 {
  readArgs();
  return finish(out(retailMac(args[0], args[1], padMethod)));
}
export function cmacOf(aes: i32): i32 {
  readArgs();
  return finish(out(cmac(aes ? AES_ECB : TDES_ECB, args[0], args[1], aes ? 16 : 8)));
}
/** cmac with the cipher and block length given separately, to check it refuses a wrong pair. */
export function cmacRaw(aes: i32, blockLen: i32): i32 {
  readArgs();
  return finish(out(cmac(aes ? AES_ECB : TDES_ECB, args[0], args[1], blockLen)));
}
export function kcvOf(aes: i32): i32 {
  readArgs();
  return finish(out(kcv(args[0], aes != 0)));
}

// ---- TDES DUKPT ----
export function dtIpek(): i32 {
  readArgs();
  return finish(out(dt.deriveIpek(args[0], args[1])));
}
/** args: ipek, ksn, clear PIN block, MAC data, request data, IV. Outputs: transaction key,
 * encrypted PIN block, request MAC, response MAC (X9.19, 8 bytes), request CMAC, response CMAC,
 * encrypted request data, then the five working keys (PIN, MAC req, MAC resp, data req, data resp). */
export function dtTransaction(): i32 {
  readArgs();
  const k = dt.transactionKey(args[0], args[1]);
  if (k == null) return finish(false);
  let ok = out(k) && out(dt.encryptPinBlock(k, args[2])) &&
    out(dt.retailMacVariant(k, args[3], false)) && out(dt.retailMacVariant(k, args[3], true)) &&
    out(dt.cmacVariant(k, args[3], false)) && out(dt.cmacVariant(k, args[3], true)) &&
    out(dt.dataCipher(k, args[4], args[5], false, false));
  for (let v = 0; ok && v < 5; v++) ok = out(dt.workingKey(k, v));
  return finish(ok);
}
export function dtTxnKey(): i32 {
  readArgs();
  return finish(out(dt.transactionKey(args[0], args[1])));
}
export function dtPin(): i32 {
  readArgs();
  const k = dt.transactionKey(args[0], args[1]);
  if (k == null) return finish(false);
  const c = dt.encryptPinBlock(k, args[2]);
  wipe(k);
  return finish(out(c));
}
export function dtNextKsn(): i32 {
  readArgs();
  return finish(out(dt.nextKsn(args[0])));
}
/** Originator (ta/lib/dukpt-originator.ts): loads an initial key (arg 0) for a key set id
 * (arg 1: TDES 10-byte KSN, AES 8-byte initial key ID), runs `count` transactions; outputs each
 * transaction (derivation) key and KSN (key, ksn, key, ksn, ...). */
export function originatorRun(isAes: i32, count: i32): i32 {
  readArgs();
  const o = new Originator();
  if (!o.load(args[0], args[1], isAes != 0)) return finish(false);
  for (let i = 0; i < count; i++) {
    if (!o.begin()) return finish(false);
    outs.push(o.currentKey.slice());
    outs.push(o.ksnOf(o.currentCounter));
  }
  return finish(true);
}

/** An originator whose next counter is arg 2 (u32 LE), its registers built from the initial
 * key by the receiver's derivation exactly as the register machine would hold them; then runs
 * transactions until exhaustion or `max`: outputs key, ksn per transaction, then [remaining
 * before the first, status of the failing begin] as two u32 LE. */
export function originatorFrom(isAes: i32, max: i32): i32 {
  readArgs();
  const ik = args[0], base = args[1];
  const n = load<u32>(args[2].dataStart);
  const o = new Originator();
  if (!o.load(ik, base, isAes != 0)) return finish(false);
  const w = isAes ? 32 : 21;
  for (let i = 0; i < w; i++) {
    const hi: u32 = i == 31 ? 0 : n & ~((<u32>1 << (i + 1)) - 1);
    const c = hi | (<u32>1 << i);
    const ksn = o.ksnOf(c);
    const k = isAes ? da.derivationKey(ik, ksn) : dt.transactionKey(ik, ksn);
    wipe(o.registers[i]);
    o.registers[i] = k == null ? new Uint8Array(0) : k;
  }
  clearError();
  o.nextCounter = n;
  const before = o.remaining();
  let i = 0;
  while (i < max && o.begin()) {
    outs.push(o.currentKey.slice());
    outs.push(o.ksnOf(o.currentCounter));
    i++;
  }
  const tail = new Uint8Array(8);
  store<u32>(tail.dataStart, before);
  store<u32>(tail.dataStart + 4, lastError());
  outs.push(tail);
  return finish(true);
}

// ---- AES DUKPT ----
export function daInitialKey(): i32 {
  readArgs();
  return finish(out(da.initialKey(args[0], args[1])));
}
export function daDerivationKey(): i32 {
  readArgs();
  return finish(out(da.derivationKey(args[0], args[1])));
}
/** args: derivation key, ksn. */
export function daWorkingKey(usage: i32, keyType: i32): i32 {
  readArgs();
  return finish(out(da.workingKey(args[0], args[1], <u16>usage, keyType)));
}
export function daUpdateKey(keyType: i32): i32 {
  readArgs();
  return finish(out(da.updateKey(args[0], args[1], keyType)));
}
/** args: initial key, ksn, PIN field, PAN field. */
export function daPin(keyType: i32): i32 {
  readArgs();
  return finish(out(da.encryptPinFromInitialKey(args[0], args[1], keyType, args[2], args[3])));
}
/** args: PIN key, block, PAN field. */
export function daPinDecrypt(): i32 {
  readArgs();
  return finish(out(da.decryptPinBlock(args[0], args[1], args[2])));
}
/** args: derivation key, ksn, data. response: 0 request (generation), 1 response (verification). */
export function daMac(keyType: i32, response: i32): i32 {
  readArgs();
  return finish(out(da.macWithUsage(args[0], args[1], keyType, args[2], response != 0)));
}
/** args: derivation key, ksn, data, iv. */
export function daData(keyType: i32, response: i32, decrypt: i32): i32 {
  readArgs();
  return finish(out(da.dataCipher(args[0], args[1], keyType, args[2], args[3], response != 0, decrypt != 0)));
}
export function daNextKsn(): i32 {
  readArgs();
  return finish(out(da.nextKsn(args[0])));
}
/** Repeats PIN-key derivation + one format-4 encipherment `count` times (benchmark body). */
export function daPinLoop(keyType: i32, count: i32): i32 {
  readArgs();
  let last: Uint8Array | null = null;
  for (let i = 0; i < count; i++) {
    if (last != null) wipe(last);
    last = da.encryptPinFromInitialKey(args[0], args[1], keyType, args[2], args[3]);
    if (last == null) return finish(false);
  }
  return finish(out(last));
}
/** ISO 9564-1 format 4 PAN field from the PAN's ASCII digits, by ta/lib/pinblock.ts. */
export function iso4PanField(): i32 {
  readArgs();
  const pan = args[0];
  const digits = new Uint8Array(pan.length);
  for (let i = 0; i < pan.length; i++) digits[i] = pan[i] - 0x30;
  const f = new Uint8Array(16);
  if (panFieldFormat4(digits, f) != 0) { badParam<Uint8Array>("PAN must be 1..19 decimal digits"); return finish(false); }
  return finish(out(f));
}

// ---- TR-31 ----
/** method: 0 variant (A/C), 1 TDES-CMAC (B), 2 AES-CMAC CBC (D), 3 AES-CMAC CTR (E). */
export function tr31Kbpk(method: i32): i32 {
  readArgs();
  let kp: KeyPair | null;
  if (method == 0) kp = kbpkVariant(args[0]);
  else if (method == 1) kp = kbpkDeriveTdes(args[0]);
  else kp = kbpkDeriveAes(args[0], method == 3);
  if (kp == null) return finish(false);
  return finish(out(kp.kbek) && out(kp.kbak));
}
/** args: header, kbpk, key[, padding]. */
export function tr31Wrap(maskedKeyLen: i32): i32 {
  readArgs();
  const padding: Uint8Array | null = args.length > 3 ? args[3] : null;
  return finish(out(tr31.wrap(args[0], args[1], args[2], padding, maskedKeyLen)));
}
/** args: key block, kbpk. Outputs: key, header as in the block, header rendered alone (its own
 * length in the length field), then (id, data) per optional block. */
export function tr31Unwrap(): i32 {
  readArgs();
  const u = tr31.unwrap(args[0], args[1]);
  if (u == null) return finish(false);
  outs.push(u.key);
  outs.push(u.headerBytes);
  outs.push(u.header.render(u.header.renderedLength()));
  for (let i = 0; i < u.header.blocks.length; i++) {
    const b = u.header.blocks[i];
    outs.push(Uint8Array.wrap(String.UTF8.encode(b.id)));
    outs.push(Uint8Array.wrap(String.UTF8.encode(b.data)));
  }
  return finish(true);
}
export function tr31Payload(): i32 {
  readArgs();
  return finish(out(tr31.buildPayload(args[0], args[1])));
}
/** Property-test batch: for each of `count` keys (args: kbpk, header, keys concatenated with
 * keyLen each, paddings concatenated with padLen each): wrap, unwrap, compare. Returns 0 if all
 * round-trip; outputs the first key block. */
export function tr31RoundTrip(count: i32, keyLen: i32, padLen: i32): i32 {
  readArgs();
  const kbpk = args[0];
  const header = args[1];
  let first: Uint8Array | null = null;
  for (let i = 0; i < count; i++) {
    const key = args[2].subarray(i * keyLen, (i + 1) * keyLen);
    const padding: Uint8Array | null = padLen >= 0 ? args[3].subarray(i * padLen, (i + 1) * padLen) : null;
    const kb = tr31.wrap(header, kbpk, key, padding, 0);
    if (kb == null) return finish(false);
    const u = tr31.unwrap(kb, kbpk);
    if (u == null) return finish(false);
    if (!equalCT(u.key, key)) return finish(false);
    if (first == null) first = kb;
  }
  return finish(out(first));
}
/** Flips every single bit of the key block (args: kb, kbpk) in turn and unwraps; outputs the
 * number of mutations accepted (must be 0) as u32 and the count tried. */
export function tr31BitFlips(start: i32, count: i32): i32 {
  readArgs();
  const kb = args[0];
  let accepted: u32 = 0;
  let tried: u32 = 0;
  const total = kb.length * 8;
  for (let i = start; i < start + count && i < total; i++) {
    const m = kb.slice();
    const bit = <u8>(<u32>1 << <u32>(i & 7));
    m[i >> 3] = m[i >> 3] ^ bit;
    const u = tr31.unwrap(m, args[1]);
    if (u != null) { accepted++; wipe(u.key); }
    tried++;
  }
  const r = new Uint8Array(8);
  store<u32>(r.dataStart, accepted);
  store<u32>(r.dataStart + 4, tried);
  return finish(out(r));
}
