// Secure messaging for confidentiality, Visa Integrated Circuit Card Specification (VIS) 1.5:
// the command data is prefixed with its length in one byte, padded with ISO/IEC 9797-1 method 2
// and enciphered with TDES in ECB mode under the Visa SM confidentiality session key.
import { pad, tdesEcb, unpadMethod2 } from './ta-lib.ts';

export function smEncipherVisa(smConfidentialityKey: Uint8Array, data: Uint8Array): Uint8Array {
  if (smConfidentialityKey.length !== 16) throw new RangeError(`SM confidentiality key must be 16 bytes, got ${smConfidentialityKey.length}`);
  if (data.length > 0xff) throw new RangeError(`command data of ${data.length} bytes does not fit a one-byte length`);
  const framed = new Uint8Array(1 + data.length);
  framed[0] = data.length; framed.set(data, 1);
  const padded = pad(framed, 'iso9797_1_method_2');
  try { return tdesEcb(smConfidentialityKey, padded); } finally { framed.fill(0); padded.fill(0); }
}

/** The card's side: the command data inside a Visa-enciphered field. */
export function smDecipherVisa(smConfidentialityKey: Uint8Array, cipher: Uint8Array): Uint8Array {
  if (smConfidentialityKey.length !== 16) throw new RangeError(`SM confidentiality key must be 16 bytes, got ${smConfidentialityKey.length}`);
  const plain = tdesEcb(smConfidentialityKey, cipher, true);
  try {
    const framed = unpadMethod2(plain);
    try {
      if (framed.length === 0 || framed[0] !== framed.length - 1) throw new RangeError('deciphered data does not start with its length');
      return framed.slice(1);
    } finally { framed.fill(0); }
  } finally { plain.fill(0); }
}
