// Key check values (ANSI X9.24-1:2017 §7.7; X9.143 optional block KC):
// legacy KCV = leftmost 3 bytes of E(K, zero block) for TDES; AES keys use the CMAC KCV =
// leftmost 5 bytes of AES-CMAC(K, 16 zero bytes), which cannot be inverted into a plaintext-
// ciphertext pair under the key.
import { AES_ECB, TDES_ECB, encrypt } from "./cipher";
import { cmac } from "./cmac";

export function kcvLegacyTdes(key: Uint8Array): Uint8Array | null {
  const c = encrypt(TDES_ECB, key, new Uint8Array(8));
  return c ? c.slice(0, 3) : null;
}

export function kcvCmacAes(key: Uint8Array): Uint8Array | null {
  const t = cmac(AES_ECB, key, new Uint8Array(16), 16);
  return t ? t.slice(0, 5) : null;
}

/** The KCV this project reports for a key: legacy for TDES (8/16/24 bytes), CMAC for AES. */
export function kcv(key: Uint8Array, isAes: bool): Uint8Array | null {
  return isAes ? kcvCmacAes(key) : kcvLegacyTdes(key);
}
