// Maps the keystore's attributes to and from TR-31 / ANSI X9.143 header fields.
import { KeyAlgorithm, KeyUsage, ModeOfUse, Exportability } from "../../proto/gen/as/keystore";

export function usageCode(u: KeyUsage): string {
  switch (u) {
    case KeyUsage.KEY_USAGE_B0_BDK: return "B0";
    case KeyUsage.KEY_USAGE_B1_DUKPT_INITIAL_KEY: return "B1";
    case KeyUsage.KEY_USAGE_D0_DATA_ENCRYPTION: return "D0";
    case KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION: return "K0";
    case KeyUsage.KEY_USAGE_K1_TR31_KBPK: return "K1";
    case KeyUsage.KEY_USAGE_M0_ISO16609_MAC_TDES: return "M0";
    case KeyUsage.KEY_USAGE_M1_ISO9797_1_MAC_ALG1: return "M1";
    case KeyUsage.KEY_USAGE_M3_ISO9797_1_MAC_ALG3: return "M3";
    case KeyUsage.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC: return "M6";
    case KeyUsage.KEY_USAGE_P0_PIN_ENCRYPTION: return "P0";
  }
  return "";
}

/** KEY_USAGE_UNSPECIFIED for a usage this keystore does not hold. */
export function usageFromCode(c: string): KeyUsage {
  for (let u = 1; u <= 10; u++) if (usageCode(<KeyUsage>u) == c) return <KeyUsage>u;
  return KeyUsage.KEY_USAGE_UNSPECIFIED;
}

const MODES = "?BCDEGNVX"; // index = ModeOfUse value

export function modeChar(m: ModeOfUse): u8 {
  return <u8>MODES.charCodeAt(<i32>m);
}

export function modeFromChar(c: u8): ModeOfUse {
  const i = MODES.indexOf(String.fromCharCode(c));
  return i > 0 ? <ModeOfUse>i : ModeOfUse.MODE_OF_USE_UNSPECIFIED;
}

const EXPORTS = "?ENS";

export function exportChar(e: Exportability): u8 {
  return <u8>EXPORTS.charCodeAt(<i32>e);
}

export function exportFromChar(c: u8): Exportability {
  const i = EXPORTS.indexOf(String.fromCharCode(c));
  return i > 0 ? <Exportability>i : Exportability.EXPORTABILITY_UNSPECIFIED;
}

export function isAes(a: KeyAlgorithm): bool {
  return a == KeyAlgorithm.KEY_ALGORITHM_AES_128 || a == KeyAlgorithm.KEY_ALGORITHM_AES_192 || a == KeyAlgorithm.KEY_ALGORITHM_AES_256;
}

/** SM4 (GB/T 32907-2016): no TR-31 / X9.143 algorithm code exists for it. */
export function isSm4(a: KeyAlgorithm): bool {
  return a == KeyAlgorithm.KEY_ALGORITHM_SM4_128;
}

/** TR-31 algorithm byte: 'A' (AES) or 'T' (TDES). Never called for SM4 (blocks.ts refuses it). */
export function algorithmChar(a: KeyAlgorithm): u8 {
  return isAes(a) ? 0x41 : 0x54;
}

/** Key length in bytes for an algorithm, or 0 if unknown. */
export function keyLength(alg: KeyAlgorithm): i32 {
  switch (alg) {
    case KeyAlgorithm.KEY_ALGORITHM_TDES_2KEY: return 16;
    case KeyAlgorithm.KEY_ALGORITHM_TDES_3KEY: return 24;
    case KeyAlgorithm.KEY_ALGORITHM_AES_128: return 16;
    case KeyAlgorithm.KEY_ALGORITHM_AES_192: return 24;
    case KeyAlgorithm.KEY_ALGORITHM_AES_256: return 32;
    case KeyAlgorithm.KEY_ALGORITHM_SM4_128: return 16;
  }
  return 0;
}

/** The algorithm of a key block's key from its header byte and length. */
export function algorithmFrom(c: u8, len: i32): KeyAlgorithm {
  if (c == 0x41) {
    if (len == 16) return KeyAlgorithm.KEY_ALGORITHM_AES_128;
    if (len == 24) return KeyAlgorithm.KEY_ALGORITHM_AES_192;
    if (len == 32) return KeyAlgorithm.KEY_ALGORITHM_AES_256;
  } else if (c == 0x54) {
    if (len == 16) return KeyAlgorithm.KEY_ALGORITHM_TDES_2KEY;
    if (len == 24) return KeyAlgorithm.KEY_ALGORITHM_TDES_3KEY;
  }
  return KeyAlgorithm.KEY_ALGORITHM_UNSPECIFIED;
}
