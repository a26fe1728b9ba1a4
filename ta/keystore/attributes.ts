// Key attribute rules at creation (ANSI X9.143 header semantics): a key's usage decides which
// algorithms and modes of use it may have. Returns "" when valid, else what is wrong.
import { KeyAttributes, KeyAlgorithm, KeyUsage, ModeOfUse, Exportability } from "../../proto/gen/as/keystore";

function isAesAlg(a: KeyAlgorithm): bool {
  return a == KeyAlgorithm.KEY_ALGORITHM_AES_128 || a == KeyAlgorithm.KEY_ALGORITHM_AES_192 || a == KeyAlgorithm.KEY_ALGORITHM_AES_256;
}

function modeAllowed(usage: KeyUsage, mode: ModeOfUse): bool {
  switch (usage) {
    case KeyUsage.KEY_USAGE_B0_BDK:
    case KeyUsage.KEY_USAGE_B1_DUKPT_INITIAL_KEY:
      return mode == ModeOfUse.MODE_OF_USE_X_DERIVE;
    case KeyUsage.KEY_USAGE_D0_DATA_ENCRYPTION:
    case KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION:
    case KeyUsage.KEY_USAGE_K1_TR31_KBPK:
      return mode == ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT || mode == ModeOfUse.MODE_OF_USE_E_ENCRYPT || mode == ModeOfUse.MODE_OF_USE_D_DECRYPT;
    case KeyUsage.KEY_USAGE_P0_PIN_ENCRYPTION:
      return mode == ModeOfUse.MODE_OF_USE_E_ENCRYPT || mode == ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT || mode == ModeOfUse.MODE_OF_USE_D_DECRYPT;
    case KeyUsage.KEY_USAGE_M0_ISO16609_MAC_TDES:
    case KeyUsage.KEY_USAGE_M1_ISO9797_1_MAC_ALG1:
    case KeyUsage.KEY_USAGE_M3_ISO9797_1_MAC_ALG3:
    case KeyUsage.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC:
      return mode == ModeOfUse.MODE_OF_USE_C_MAC_GENERATE_VERIFY || mode == ModeOfUse.MODE_OF_USE_G_MAC_GENERATE || mode == ModeOfUse.MODE_OF_USE_V_MAC_VERIFY;
  }
  return false;
}

export function checkAttributes(a: KeyAttributes): string {
  if (a.algorithm == KeyAlgorithm.KEY_ALGORITHM_UNSPECIFIED || <i32>a.algorithm > 6) return "algorithm is required (TDES 2/3-key, AES-128/192/256 or SM4-128)";
  if (a.usage == KeyUsage.KEY_USAGE_UNSPECIFIED || <i32>a.usage > 10) return "usage is required";
  if (a.modeOfUse == ModeOfUse.MODE_OF_USE_UNSPECIFIED || <i32>a.modeOfUse > 8) return "mode_of_use is required";
  if (a.exportability == Exportability.EXPORTABILITY_UNSPECIFIED || <i32>a.exportability > 3) return "exportability is required";
  if (a.version > 0xffff) return "version must fit two characters of the key block header";
  if (!modeAllowed(a.usage, a.modeOfUse)) return "mode_of_use is not allowed for this key usage";
  if (a.algorithm == KeyAlgorithm.KEY_ALGORITHM_SM4_128) return sm4Rule(a);
  const aes = isAesAlg(a.algorithm);
  if (a.usage == KeyUsage.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC) return "";
  if ((a.usage == KeyUsage.KEY_USAGE_M0_ISO16609_MAC_TDES || a.usage == KeyUsage.KEY_USAGE_M1_ISO9797_1_MAC_ALG1 || a.usage == KeyUsage.KEY_USAGE_M3_ISO9797_1_MAC_ALG3) && aes) {
    return "this MAC usage is defined for TDES keys only";
  }
  return "";
}

/** SM4 keys (UnionPay national algorithms): PIN keys (P0, mode E or B), terminal master keys
 * (K0, mode B, D or E) and data keys (D0). No SM4 DUKPT, no SM4 MAC usage, no K1 (TR-31 KBPK:
 * TR-31 has no SM4 algorithm code). */
function sm4Rule(a: KeyAttributes): string {
  const u = a.usage;
  if (u == KeyUsage.KEY_USAGE_P0_PIN_ENCRYPTION) {
    return a.modeOfUse == ModeOfUse.MODE_OF_USE_E_ENCRYPT || a.modeOfUse == ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT ? "" : "an SM4 PIN key (P0) has mode of use E or B";
  }
  if (u == KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION || u == KeyUsage.KEY_USAGE_D0_DATA_ENCRYPTION) return "";
  return "SM4 keys are held for usages P0, K0 and D0 only";
}
