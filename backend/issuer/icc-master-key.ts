// ICC master key derivation, EMV 4.4 Book 2 Annex A1.4: option A (PAN || PSN, up to 16
// digits) and option B (SHA-1 of PAN || PSN, decimalised, for PANs over 16 digits).
// MK = TDES(IMK)[Y] || TDES(IMK)[Y xor FF..FF], parity adjusted.
import { createHash } from 'node:crypto';
import { adjustParity } from './des.ts';
import { tdesEcb } from './ta-lib.ts';

export type MasterKeyDerivation = 'option_a' | 'option_b';

function checkInputs(pan: string, psn: string): void {
  if (!/^\d{12,19}$/.test(pan)) throw new RangeError(`PAN must be 12 to 19 digits, got ${pan.length} characters`);
  if (!/^\d{2}$/.test(psn)) throw new RangeError(`PAN sequence number must be 2 digits, got '${psn}'`);
}

function fromY(issuerMasterKey: Uint8Array, y: Uint8Array): Uint8Array {
  const block = new Uint8Array(16);
  block.set(y); block.set(y.map((b) => b ^ 0xff), 8);
  return adjustParity(tdesEcb(issuerMasterKey, block));
}

/** Option A's Y: the rightmost 16 digits of PAN || PSN, zero-filled on the left (8 bytes).
 *  The SM4 derivation (icc-master-key-sm4.ts) starts from the same Y. */
export function optionAY(pan: string, psn = '00'): Uint8Array {
  checkInputs(pan, psn);
  return new Uint8Array(Buffer.from((pan + psn).slice(-16).padStart(16, '0'), 'hex'));
}

export function iccMasterKeyOptionA(issuerMasterKey: Uint8Array, pan: string, psn = '00'): Uint8Array {
  return fromY(issuerMasterKey, optionAY(pan, psn));
}

export function iccMasterKeyOptionB(issuerMasterKey: Uint8Array, pan: string, psn = '00'): Uint8Array {
  checkInputs(pan, psn);
  if (pan.length <= 16) return iccMasterKeyOptionA(issuerMasterKey, pan, psn);
  const digits = pan + psn;
  const x = Buffer.from(digits.length % 2 ? '0' + digits : digits, 'hex');
  const h = createHash('sha1').update(x).digest('hex');
  // First 16 decimal digits of the hash; if fewer, continue with hex letters a..f → 0..5.
  let y = [...h].filter((c) => c >= '0' && c <= '9').join('').slice(0, 16);
  if (y.length < 16) {
    y += [...h].filter((c) => c >= 'a').map((c) => String(c.charCodeAt(0) - 97)).join('').slice(0, 16 - y.length);
  }
  return fromY(issuerMasterKey, Buffer.from(y, 'hex'));
}

export function iccMasterKey(method: MasterKeyDerivation, issuerMasterKey: Uint8Array, pan: string, psn = '00'): Uint8Array {
  return method === 'option_a' ? iccMasterKeyOptionA(issuerMasterKey, pan, psn) : iccMasterKeyOptionB(issuerMasterKey, pan, psn);
}
