// Secure messaging for confidentiality, EMV 4.4 Book 2 §9.3 and Annex A1.1, as the Common Core
// Definitions apply it: the command data (e.g. a PIN block) is always padded with ISO/IEC
// 9797-1 method 2 and enciphered with TDES in CBC mode, IV zero, under the SM confidentiality
// session key (SK_SMC).
import { pad, tdesCbc, unpadMethod2 } from './ta-lib.ts';

export function smEncipherEmv(smConfidentialityKey: Uint8Array, data: Uint8Array): Uint8Array {
  if (smConfidentialityKey.length !== 16) throw new RangeError(`SM confidentiality key must be 16 bytes, got ${smConfidentialityKey.length}`);
  const padded = pad(data, 'iso9797_1_method_2');
  try { return tdesCbc(smConfidentialityKey, padded); } finally { padded.fill(0); }
}

export function smDecipherEmv(smConfidentialityKey: Uint8Array, cipher: Uint8Array): Uint8Array {
  if (smConfidentialityKey.length !== 16) throw new RangeError(`SM confidentiality key must be 16 bytes, got ${smConfidentialityKey.length}`);
  const plain = tdesCbc(smConfidentialityKey, cipher, new Uint8Array(8), true);
  try { return unpadMethod2(plain); } finally { plain.fill(0); }
}
