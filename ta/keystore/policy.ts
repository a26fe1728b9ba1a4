// The key usage rules (ANSI X9.143 key usage and mode of use, enforced on every operation):
// a key does only what its usage and mode of use allow. allowed() returns "" or the reason.
import { KeyAttributes, KeyUsage, ModeOfUse, Exportability, MacAlgorithm } from "../../proto/gen/as/keystore";
import { usageCode } from "./tr31-map";

export enum Op {
  MAC_GENERATE = 0,
  MAC_VERIFY = 1,
  ENCRYPT = 2,
  DECRYPT = 3,
  WRAP_KEY = 4,
  UNWRAP_KEY = 5,
  EXPORT = 6,
  DUKPT_DERIVE = 7,
  PIN_ENCRYPT = 8,
}
export const OP_COUNT = 9;

const OP_NAMES: string[] = [
  "MAC generation", "MAC verification", "data encryption", "data decryption",
  "wrapping keys for export", "unwrapping imported keys", "export", "DUKPT derivation", "PIN encryption",
];

export function opName(op: Op): string {
  return OP_NAMES[<i32>op];
}

function isMac(u: KeyUsage): bool {
  return u == KeyUsage.KEY_USAGE_M0_ISO16609_MAC_TDES || u == KeyUsage.KEY_USAGE_M1_ISO9797_1_MAC_ALG1 ||
    u == KeyUsage.KEY_USAGE_M3_ISO9797_1_MAC_ALG3 || u == KeyUsage.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC;
}

function isKek(u: KeyUsage): bool {
  return u == KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION || u == KeyUsage.KEY_USAGE_K1_TR31_KBPK;
}

function modeIn(m: ModeOfUse, a: ModeOfUse, b: ModeOfUse): bool {
  return m == a || m == b;
}

export function allowed(a: KeyAttributes, op: Op): string {
  const u = a.usage;
  const m = a.modeOfUse;
  let ok = false;
  switch (op) {
    case Op.MAC_GENERATE: ok = isMac(u) && modeIn(m, ModeOfUse.MODE_OF_USE_C_MAC_GENERATE_VERIFY, ModeOfUse.MODE_OF_USE_G_MAC_GENERATE); break;
    case Op.MAC_VERIFY: ok = isMac(u) && modeIn(m, ModeOfUse.MODE_OF_USE_C_MAC_GENERATE_VERIFY, ModeOfUse.MODE_OF_USE_V_MAC_VERIFY); break;
    case Op.ENCRYPT: ok = u == KeyUsage.KEY_USAGE_D0_DATA_ENCRYPTION && modeIn(m, ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, ModeOfUse.MODE_OF_USE_E_ENCRYPT); break;
    case Op.DECRYPT: ok = u == KeyUsage.KEY_USAGE_D0_DATA_ENCRYPTION && modeIn(m, ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, ModeOfUse.MODE_OF_USE_D_DECRYPT); break;
    case Op.WRAP_KEY: ok = isKek(u) && modeIn(m, ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, ModeOfUse.MODE_OF_USE_E_ENCRYPT); break;
    case Op.UNWRAP_KEY: ok = isKek(u) && modeIn(m, ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, ModeOfUse.MODE_OF_USE_D_DECRYPT); break;
    case Op.EXPORT: ok = a.exportability == Exportability.EXPORTABILITY_E_TRUSTED; break;
    case Op.DUKPT_DERIVE: ok = u == KeyUsage.KEY_USAGE_B1_DUKPT_INITIAL_KEY && m == ModeOfUse.MODE_OF_USE_X_DERIVE; break;
    case Op.PIN_ENCRYPT: ok = u == KeyUsage.KEY_USAGE_P0_PIN_ENCRYPTION && modeIn(m, ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, ModeOfUse.MODE_OF_USE_E_ENCRYPT); break;
  }
  if (ok) return "";
  if (op == Op.EXPORT) return "the key is not exportable (exportability must be E)";
  return "key usage " + usageCode(u) + " with mode of use " + String.fromCharCode(<i32>"?BCDEGNVX".charCodeAt(<i32>m)) + " does not permit " + opName(op);
}

/** The MAC algorithm must be the one the key's usage names. */
export function macAlgorithmAllowed(a: KeyAttributes, alg: MacAlgorithm, aes: bool): string {
  const u = a.usage;
  const alg1 = alg == MacAlgorithm.MAC_ALGORITHM_ISO9797_1_ALG1_PAD1 || alg == MacAlgorithm.MAC_ALGORITHM_ISO9797_1_ALG1_PAD2;
  const alg3 = alg == MacAlgorithm.MAC_ALGORITHM_ISO9797_1_ALG3_PAD1 || alg == MacAlgorithm.MAC_ALGORITHM_ISO9797_1_ALG3_PAD2;
  if ((u == KeyUsage.KEY_USAGE_M0_ISO16609_MAC_TDES || u == KeyUsage.KEY_USAGE_M1_ISO9797_1_MAC_ALG1) && alg1 && !aes) return "";
  if (u == KeyUsage.KEY_USAGE_M3_ISO9797_1_MAC_ALG3 && alg3 && !aes) return "";
  if (u == KeyUsage.KEY_USAGE_M6_ISO9797_1_MAC_ALG5_CMAC && alg == MacAlgorithm.MAC_ALGORITHM_CMAC) return "";
  return "MAC algorithm " + (<i32>alg).toString() + " is not the one key usage " + usageCode(u) + " names";
}
