// VIS PIN block, Visa Integrated Circuit Card Specification (VIS) 1.5, PIN change/unblock
// issuer script: block A = 00 00 00 00 || bytes 4..7 of the ICC master key AC (the right half
// of its left key), block B = PIN length byte || PIN digits || F fill; the block is A xor B. For
// PIN change with the current PIN, xor in the current PIN's digits, zero-filled to 16 digits.
import { xor } from './des.ts';
import { checkPin, PinError } from './ta-lib.ts';
import { hex, unhex } from './util.ts';

/** A, xor the current PIN field when there is one: what B is masked with. */
function mask(iccMasterKeyAc: Uint8Array, currentPin?: string): Uint8Array {
  if (iccMasterKeyAc.length !== 16) throw new RangeError(`ICC master key AC must be 16 bytes, got ${iccMasterKeyAc.length}`);
  const a = new Uint8Array(8);
  a.set(iccMasterKeyAc.subarray(4, 8), 4);
  if (currentPin === undefined) return a;
  checkPin(currentPin, 'current PIN');
  const field = unhex(currentPin.padEnd(16, '0'));
  try { return xor(a, field); } finally { a.fill(0); field.fill(0); }
}

export function visPinBlock(iccMasterKeyAc: Uint8Array, newPin: string, currentPin?: string): Uint8Array {
  checkPin(newPin, 'new PIN');
  const m = mask(iccMasterKeyAc, currentPin);
  const b = unhex(newPin.length.toString(16).padStart(2, '0') + newPin.padEnd(14, 'F'));
  try { return xor(m, b); } finally { m.fill(0); b.fill(0); }
}

/** The card's side: the new PIN inside a VIS PIN block (the card knows its current PIN). */
export function pinOfVisBlock(iccMasterKeyAc: Uint8Array, block: Uint8Array, currentPin?: string): string {
  if (block.length !== 8) throw new PinError(`VIS PIN block must be 8 bytes, got ${block.length}`);
  const m = mask(iccMasterKeyAc, currentPin);
  const b = xor(m, block);
  m.fill(0);
  const n = b[0]!, digits = hex(b.subarray(1));
  b.fill(0);
  if (n < 4 || n > 12 || !/^\d+$/.test(digits.slice(0, n)) || !/^F*$/.test(digits.slice(n))) {
    throw new PinError('not a VIS PIN block for this card (wrong key, current PIN or data)');
  }
  return digits.slice(0, n);
}
