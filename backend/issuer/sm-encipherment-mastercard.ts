// Secure messaging for confidentiality, Mastercard M/Chip 4 / M/Chip Advance (EMV 4.4 Book 2
// §9.3, Annex A1.1): TDES in CBC mode, IV zero, under SK_SMC; the data is padded with ISO/IEC
// 9797-1 method 2 only when it is not already whole 8-byte blocks — so an ISO 9564 format 2 PIN
// block is enciphered as it stands.
import { pad, tdesCbc } from './ta-lib.ts';

export function smEncipherMastercard(smConfidentialityKey: Uint8Array, data: Uint8Array): Uint8Array {
  if (smConfidentialityKey.length !== 16) throw new RangeError(`SM confidentiality key must be 16 bytes, got ${smConfidentialityKey.length}`);
  if (data.length === 0) throw new RangeError('no command data to encipher');
  const padded = data.length % 8 === 0 ? data.slice() : pad(data, 'iso9797_1_method_2');
  try { return tdesCbc(smConfidentialityKey, padded); } finally { padded.fill(0); }
}

/** The card's side: the deciphered blocks, padding left in place (the command says how long its
 *  data is: a PIN block is one whole block, sent unpadded). */
export function smDecipherMastercard(smConfidentialityKey: Uint8Array, cipher: Uint8Array): Uint8Array {
  if (smConfidentialityKey.length !== 16) throw new RangeError(`SM confidentiality key must be 16 bytes, got ${smConfidentialityKey.length}`);
  return tdesCbc(smConfidentialityKey, cipher, new Uint8Array(8), true);
}
