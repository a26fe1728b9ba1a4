// ISO 9564-1:2017 PIN block format 2 (the plaintext block EMV offline PIN uses, and the one
// Mastercard M/Chip and EMV CCD issuer scripts encipher for PIN change): control nibble 2,
// PIN length nibble, the PIN digits, F fill — 8 bytes, no PAN. ta/lib/pinblock.ts holds the
// trusted apps' format 2; this is the issuer back end's copy on plain bytes (see
// docs/contactless.md, architecture note).
import { unhex } from './util.ts';

export class PinError extends Error {
  readonly code = 'PIN_INVALID';
}

export function checkPin(pin: string, what = 'PIN'): void {
  if (!/^\d{4,12}$/.test(pin)) throw new PinError(`${what} must be 4 to 12 digits, got ${pin.length} characters`);
}

export function iso9564Format2PinBlock(pin: string): Uint8Array {
  checkPin(pin);
  return unhex('2' + pin.length.toString(16) + pin.padEnd(14, 'F'));
}
