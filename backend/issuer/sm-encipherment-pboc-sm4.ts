// Secure messaging for confidentiality on a PBOC national-algorithm card: the EMV Book 2 §9.3
// scheme of sm-encipherment-emv.ts with SM4 in place of TDES — the command data padded with
// ISO/IEC 9797-1 method 2 to 16-byte blocks, SM4-CBC with a zero IV under SK_SMC.
// Informative: public implementations describe the SM4 script MAC and key derivation
// (ta-lib.ts sm4Mac) but none we found shows SM4 command-data encipherment; this follows the
// EMV scheme the TDES cards use, and no published vector checks it. SM4, the padding and the
// unpadding are ta/lib's (ta-lib.ts).
import { pad, sm4Cbc, unpadMethod2 } from './ta-lib.ts';

export function smEncipherPbocSm4(smConfidentialityKey: Uint8Array, data: Uint8Array): Uint8Array {
  const padded = pad(data, 'iso9797_1_method_2', 16);
  try { return sm4Cbc(smConfidentialityKey, padded); } finally { padded.fill(0); }
}

export function smDecipherPbocSm4(smConfidentialityKey: Uint8Array, cipher: Uint8Array): Uint8Array {
  const plain = sm4Cbc(smConfidentialityKey, cipher, new Uint8Array(16), true);
  try { return unpadMethod2(plain, 16); } finally { plain.fill(0); }
}
