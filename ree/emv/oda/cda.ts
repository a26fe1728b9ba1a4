// Combined DDA / Application Cryptogram generation (EMV 4.4 Book 2 §6.6.2): the cryptogram
// arrives inside the signature, with a hash over the PDOL data, the CDOL1 data and the
// GENERATE AC response's other objects, in the order the card sent them.
import { sha1 } from '@noble/hashes/legacy.js';
import { concat, equalBytes } from '../../../common/hex.ts';
import { OdaError, openSdad } from './certificates.ts';
import { isSm2Key } from './sm2-certificates.ts';
import type { IccPublicKey } from './key-chain.ts';
import type { Tlv } from '../../../common/tlv.ts';

export interface CdaInput {
  sdad: Uint8Array;
  un: Uint8Array;
  cid: Uint8Array;
  pdolData: Uint8Array;
  cdol1Data: Uint8Array;
  /** the primitive objects of the GENERATE AC response template (77), in order */
  response: Tlv[];
  /** the bytes those objects were decoded from (hashing uses them as sent, not re-encoded) */
  responseBytes: Uint8Array;
  /** Kernel 2 after relay resistance: terminal entropy || the card's 10 RRP bytes, which the
   *  card signs after the hash code (Book C-2 ICC Dynamic Data) */
  relayResistanceData?: Uint8Array;
}

/** Returns the Application Cryptogram carried in the signature. */
export function verifyCda(icc: IccPublicKey, i: CdaInput): Uint8Array {
  // CDA is Kernel 2's (Mastercard, RSA); an SM2 signature format for it is not implemented.
  if (isSm2Key(icc)) throw new OdaError('SDAD_INVALID', 'CDA with an SM2 ICC key is not supported');
  const dyn = openSdad(icc, i.sdad, i.un);
  if (dyn.length < 1) throw new OdaError('SDAD_INVALID', 'ICC dynamic data empty');
  const ldn = dyn[0]!;
  if (dyn.length < 1 + ldn + 1 + 8 + 20) throw new OdaError('SDAD_INVALID', 'ICC dynamic data too short for CDA');
  const cid = dyn.subarray(1 + ldn, 2 + ldn);
  const ac = dyn.subarray(2 + ldn, 10 + ldn);
  const hash = dyn.subarray(10 + ldn, 30 + ldn);
  if (i.relayResistanceData) {
    const rr = dyn.subarray(30 + ldn, 30 + ldn + i.relayResistanceData.length);
    if (!equalBytes(rr, i.relayResistanceData)) throw new OdaError('CDA_RRP_MISMATCH', 'relay resistance data in the signature differs from the exchange');
  }
  if (!equalBytes(cid, i.cid)) throw new OdaError('CDA_CID_MISMATCH', 'CID in the signature differs from 9F27');
  const encoded = i.response.filter((n) => n.tag !== '9F4B').map((n) => asSent(i.responseBytes, n));
  const expected = sha1(concat(i.pdolData, i.cdol1Data, ...encoded));
  if (!equalBytes(expected, hash)) throw new OdaError('CDA_HASH_MISMATCH', 'transaction data hash code mismatch');
  return ac.slice();
}

/** The object's bytes exactly as the card sent them (tag, length, value). */
function asSent(bytes: Uint8Array, n: Tlv): Uint8Array {
  const valueEnd = n.value.byteOffset - bytes.byteOffset + n.value.length;
  return bytes.subarray(n.offset, valueEnd);
}
