// PBOC / UnionPay (qPBOC CVN 01) AC session key, JR/T 0025.5 (PBOC 3.0 part 5) annex:
// SK = TDES(MK)[00..00 || ATC] || TDES(MK)[00..00 || ~ATC], parity adjusted.
// No published vector was available to check this one (see docs/contactless.md).
import { adjustParity } from './des.ts';
import { tdesEcb } from './ta-lib.ts';

export function pbocSessionKey(iccMasterKey: Uint8Array, atc: Uint8Array): Uint8Array {
  if (iccMasterKey.length !== 16) throw new RangeError(`ICC master key must be 16 bytes, got ${iccMasterKey.length}`);
  if (atc.length !== 2) throw new RangeError(`ATC must be 2 bytes, got ${atc.length}`);
  const block = new Uint8Array(16);
  block.set(atc, 6); block[14] = atc[0]! ^ 0xff; block[15] = atc[1]! ^ 0xff;
  return adjustParity(tdesEcb(iccMasterKey, block));
}
