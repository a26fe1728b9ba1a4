// fast Dynamic Data Authentication (EMV Contactless Book C-3 §5.3 / C-7): the card signs its
// dynamic number with the terminal's UN, amount, currency and the Card Authentication Related
// Data (9F69). Kernel 7 accepts fDDA version 01 only. An ICC key certified in the SM2 chain
// (PBOC 3.0 JR/T 0025.17) signs the same terminal dynamic data with SM2 (format 15).
import { concat } from '../../../common/hex.ts';
import { OdaError, openSdad } from './certificates.ts';
import { isSm2Key, openSm2Sdad } from './sm2-certificates.ts';
import type { IccPublicKey } from './key-chain.ts';

export interface FddaInput {
  sdad: Uint8Array;
  un: Uint8Array;
  amount: Uint8Array;
  currency: Uint8Array;
  /** 9F69, absent for fDDA version 00 */
  cardAuthData?: Uint8Array;
  /** Kernel 7 refuses anything but version 01 */
  requireVersion01: boolean;
}

export function verifyFdda(icc: IccPublicKey, i: FddaInput): Uint8Array {
  const version = i.cardAuthData?.[0] ?? 0x00;
  if (i.requireVersion01 && version !== 0x01) throw new OdaError('FDDA_VERSION', `fDDA version ${version.toString(16).padStart(2, '0')} not accepted`);
  const tdd = version === 0x01 ? concat(i.un, i.amount, i.currency, i.cardAuthData!) : i.un;
  return isSm2Key(icc) ? openSm2Sdad(icc, i.sdad, tdd) : openSdad(icc, i.sdad, tdd);
}
