// Visa secure-messaging session key (Visa Integrated Circuit Card Specification, as used with
// CVN 10): MK left half xor (00..00 || ATC), right half xor (00..00 || ~ATC), parity adjusted.
import { adjustParity } from './des.ts';

export function visaSmSessionKey(iccMasterKey: Uint8Array, atc: Uint8Array): Uint8Array {
  if (iccMasterKey.length !== 16) throw new RangeError(`ICC master key must be 16 bytes, got ${iccMasterKey.length}`);
  if (atc.length !== 2) throw new RangeError(`ATC must be 2 bytes, got ${atc.length}`);
  const sk = iccMasterKey.slice();
  sk[6]! ^= atc[0]!; sk[7]! ^= atc[1]!;
  sk[14]! ^= atc[0]! ^ 0xff; sk[15]! ^= atc[1]! ^ 0xff;
  return adjustParity(sk);
}
