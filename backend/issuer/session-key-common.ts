// Common session key derivation, EMV 4.4 Book 2 Annex A1.3.1:
// SK = TDES(MK)[R with byte 3 = F0] || TDES(MK)[R with byte 3 = 0F], parity adjusted.
// R is ATC || 00..00 for AC keys (EMV CSK), ATC || 0000 || UN for Mastercard's SKD, or the ARQC
// for secure-messaging keys.
import { adjustParity } from './des.ts';
import { tdesEcb } from './ta-lib.ts';

export function commonSessionKey(iccMasterKey: Uint8Array, r: Uint8Array): Uint8Array {
  if (iccMasterKey.length !== 16) throw new RangeError(`ICC master key must be 16 bytes, got ${iccMasterKey.length}`);
  if (r.length !== 8) throw new RangeError(`diversification value R must be 8 bytes, got ${r.length}`);
  const block = new Uint8Array(16);
  block.set(r); block.set(r, 8);
  block[2] = 0xf0; block[10] = 0x0f;
  return adjustParity(tdesEcb(iccMasterKey, block));
}

/** R = ATC || 00 00 00 00 00 00 */
export function rFromAtc(atc: Uint8Array): Uint8Array {
  if (atc.length !== 2) throw new RangeError(`ATC must be 2 bytes, got ${atc.length}`);
  const r = new Uint8Array(8); r.set(atc); return r;
}

/** R = ATC || 00 00 || UN (Mastercard M/Chip session key derivation) */
export function rFromAtcUn(atc: Uint8Array, un: Uint8Array): Uint8Array {
  if (atc.length !== 2 || un.length !== 4) throw new RangeError('ATC must be 2 bytes and UN 4 bytes');
  const r = new Uint8Array(8); r.set(atc); r.set(un, 4); return r;
}
