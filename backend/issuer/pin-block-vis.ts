// VIS PIN block, Visa Integrated Circuit Card Specification (VIS) 1.5, PIN change/unblock
// issuer script: block A = 00 00 00 00 || bytes 4..7 of the ICC master key AC (the right half
// of its left key), block B = PIN length byte || PIN digits || F fill; the block is A xor B. For
// PIN change with the current PIN, xor in the current PIN's digits, zero-filled to 16 digits.
import { xor } from './des.ts';
import { checkPin } from './ta-lib.ts';
import { unhex } from './util.ts';

export function visPinBlock(iccMasterKeyAc: Uint8Array, newPin: string, currentPin?: string): Uint8Array {
  if (iccMasterKeyAc.length !== 16) throw new RangeError(`ICC master key AC must be 16 bytes, got ${iccMasterKeyAc.length}`);
  checkPin(newPin, 'new PIN');
  const a = new Uint8Array(8);
  a.set(iccMasterKeyAc.subarray(4, 8), 4);
  const b = unhex(newPin.length.toString(16).padStart(2, '0') + newPin.padEnd(14, 'F'));
  let block = xor(a, b);
  if (currentPin !== undefined) {
    checkPin(currentPin, 'current PIN');
    block = xor(block, unhex(currentPin.padEnd(16, '0')));
  }
  a.fill(0); b.fill(0);
  return block;
}
