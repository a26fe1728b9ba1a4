// Key block protection key (KBPK) derivations of TR-31 / ANSI X9.143:2022 (§7.2) and ISO 20038:2017
// (§6.3): the key block encryption key (KBEK) and key block authentication key (KBAK).
//   Key variant binding (versions A, C): KBEK = KBPK XOR 45..45, KBAK = KBPK XOR 4D..4D.
//   TDES key derivation binding (version B): block i = TDES-CMAC(KBPK, i || usage(2) || 00 ||
//     algorithm(2) || length in bits(2)); usage 0000 KBEK, 0001 KBAK; algorithm 0000 2TDEA,
//     0001 3TDEA.
//   AES key derivation binding (version D: CBC; ISO 20038 version E: CTR): the same input with
//     AES-CMAC; KBEK usage 0000 (CBC) or 0002 (CTR), KBAK 0001; algorithm 0002/0003/0004 for
//     AES-128/192/256. AES-192 takes the leftmost 8 bytes of the second block.
// Every CMAC of one derivation goes through cmacShortMessages: two host operations in all.
import { AES_ECB, TDES_ECB } from "./cipher";
import { cmacShortMessages } from "./cmac";
import { badParam, fail } from "./error";
import { ERROR_GENERIC } from "./status";
import { wipe } from "./bytes";

/** A derived key pair; wipe() when done. */
export class KeyPair {
  constructor(public kbek: Uint8Array, public kbak: Uint8Array) {}
  wipe(): void {
    wipe(this.kbek);
    wipe(this.kbak);
  }
}

export function isTdesKbpk(kbpk: Uint8Array): bool {
  return kbpk.length == 16 || kbpk.length == 24;
}

export function isAesKbpk(kbpk: Uint8Array): bool {
  return kbpk.length == 16 || kbpk.length == 24 || kbpk.length == 32;
}

/** Versions A and C: the variant method. */
export function kbpkVariant(kbpk: Uint8Array): KeyPair | null {
  if (!isTdesKbpk(kbpk)) return badParam<KeyPair>("TR-31 KBPK: variant method needs a 16- or 24-byte TDES key");
  const e = new Uint8Array(kbpk.length);
  const a = new Uint8Array(kbpk.length);
  for (let i = 0; i < kbpk.length; i++) {
    e[i] = kbpk[i] ^ 0x45;
    a[i] = kbpk[i] ^ 0x4d;
  }
  return new KeyPair(e, a);
}

function derivationInputs(blocksPerKey: i32, encUsage: u16, alg: u16, bits: u16): Uint8Array {
  const d = new Uint8Array(blocksPerKey * 2 * 8);
  for (let k = 0; k < 2; k++) {
    const usage: u16 = k == 0 ? encUsage : 0x0001;
    for (let i = 0; i < blocksPerKey; i++) {
      const o = (k * blocksPerKey + i) * 8;
      d[o] = <u8>(i + 1);
      d[o + 1] = <u8>(usage >> 8);
      d[o + 2] = <u8>usage;
      d[o + 3] = 0;
      d[o + 4] = <u8>(alg >> 8);
      d[o + 5] = <u8>alg;
      d[o + 6] = <u8>(bits >> 8);
      d[o + 7] = <u8>bits;
    }
  }
  return d;
}

/** Version B: TDES-CMAC key derivation. */
export function kbpkDeriveTdes(kbpk: Uint8Array): KeyPair | null {
  if (!isTdesKbpk(kbpk)) return badParam<KeyPair>("TR-31 KBPK: version B needs a 16- or 24-byte TDES key");
  const n = kbpk.length / 8;
  const d = derivationInputs(n, 0x0000, kbpk.length == 16 ? 0x0000 : 0x0001, <u16>(kbpk.length * 8));
  const t = cmacShortMessages(TDES_ECB, kbpk, d, 8, 8);
  if (t == null) return fail<KeyPair>(ERROR_GENERIC, "TR-31 KBPK: host cipher failed");
  const kp = new KeyPair(t.slice(0, kbpk.length), t.slice(kbpk.length, 2 * kbpk.length));
  wipe(t);
  return kp;
}

/** Versions D (ctr = false) and E (ctr = true): AES-CMAC key derivation. */
export function kbpkDeriveAes(kbpk: Uint8Array, ctr: bool): KeyPair | null {
  if (!isAesKbpk(kbpk)) return badParam<KeyPair>("TR-31 KBPK: versions D and E need a 16-, 24- or 32-byte AES key");
  const len = kbpk.length;
  const n = (len + 15) / 16;
  const alg: u16 = len == 16 ? 0x0002 : len == 24 ? 0x0003 : 0x0004;
  const d = derivationInputs(n, ctr ? 0x0002 : 0x0000, alg, <u16>(len * 8));
  const t = cmacShortMessages(AES_ECB, kbpk, d, 8, 16);
  if (t == null) return fail<KeyPair>(ERROR_GENERIC, "TR-31 KBPK: host cipher failed");
  const kp = new KeyPair(t.slice(0, len), t.slice(n * 16, n * 16 + len));
  wipe(t);
  return kp;
}
