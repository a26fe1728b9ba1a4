// Track 2 Equivalent Data, tag 57 (EMV Book 3 Annex A; ISO/IEC 7813 layout in BCD):
// PAN, separator 'D', expiry YYMM, service code (3 digits), discretionary data, 'F' pad.
import { toHex } from '../hex.ts';

export class Track2Error extends Error {
  readonly code = 'TRACK2_MALFORMED';
}

export interface Track2 {
  pan: string;
  /** YYMM as on the card */
  expiry: string;
  serviceCode: string;
  discretionary: string;
}

export function parseTrack2(data: Uint8Array | string): Track2 {
  const digits = (typeof data === 'string' ? data.toUpperCase() : toHex(data)).replace(/F$/, '');
  // Service code and discretionary data stay hex: captures mask them with 'F' nibbles.
  const m = /^(\d{12,19})D(\d{4})([0-9A-F]{3})([0-9A-F]*)$/.exec(digits);
  if (!m) throw new Track2Error(`Track 2 equivalent data malformed (${digits.length} nibbles; expected PAN 'D' YYMM service code)`);
  const [, pan, expiry, serviceCode, discretionary] = m as unknown as [string, string, string, string, string];
  const mm = Number(expiry.slice(2));
  if (mm < 1 || mm > 12) throw new Track2Error(`Track 2 expiry month ${expiry.slice(2)} out of range`);
  return { pan, expiry, serviceCode, discretionary };
}

/** Last day of the expiry month, as DD/MM/YYYY (cards expire at the end of the month). */
export function expiryEndOfMonth(yymm: string): { day: number; month: number; year: number } {
  const year = 2000 + Number(yymm.slice(0, 2));
  const month = Number(yymm.slice(2, 4));
  const day = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { day, month, year };
}

/** ISO/IEC 7813 service code, first digit: interchange and technology. */
export function serviceCodeInterchange(serviceCode: string): string {
  switch (serviceCode[0]) {
    case '1': return 'international';
    case '2': return 'international ICC';
    case '5': return 'national';
    case '6': return 'national ICC';
    case '7': return 'private';
    case '9': return 'test';
    default: return 'reserved';
  }
}

/** Never show a full PAN: first 6 and last 4 digits at most (PCI DSS 3.4). */
export function maskPan(pan: string): string {
  if (pan.length <= 10) return '*'.repeat(pan.length);
  return pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4);
}
