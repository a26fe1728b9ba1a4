// Format checks on the data objects a card sends (EMV Book 3 Annex A lengths and formats),
// before the kernel decides anything on them. A value of the wrong length or out of range
// (a two-byte CID, a month 13, a PAN with hex digits) or a reserved code ends the
// transaction with a reason; it is never read as something else, and never sent online.
import { toHex } from '../../common/hex.ts';
import { KernelError } from './read-records.ts';

/** Fixed lengths, or [min, max], of the card objects the kernels act on. */
const LENGTHS: Record<string, number | [number, number]> = {
  '9F27': 1, '9F36': 2, '9F26': 8, '82': 2, '5F24': 3, '5F25': 3, '5F34': 1, '8F': 1,
  '9F10': [1, 32], '9F6C': 2, '5A': [6, 10], '9F4A': [0, 252],
};

/** CID (9F27) bits 8-7: 00 AAC, 01 TC, 10 ARQC, 11 reserved for future use (Book 3 Table 14). */
export const CID_RESERVED = 0xc0;

/** Checks every present object the kernel reads; throws KernelError with a precise code. */
export function checkCardData(data: Map<string, Uint8Array>): void {
  for (const [tag, want] of Object.entries(LENGTHS)) {
    const v = data.get(tag);
    if (!v) continue;
    const [min, max] = typeof want === 'number' ? [want, want] : want;
    if (v.length < min || v.length > max) throw new KernelError('DATA_LENGTH', `${tag} of ${v.length} bytes (expected ${min === max ? min : `${min}..${max}`})`);
  }
  const cid = data.get('9F27');
  if (cid && (cid[0]! & 0xc0) === CID_RESERVED) throw new KernelError('CID_RESERVED', `cryptogram information data ${toHex(cid)} uses the reserved cryptogram type 11`);
  for (const tag of ['5F24', '5F25']) {
    const v = data.get(tag);
    if (v && !isDate(toHex(v))) throw new KernelError('DATA_FORMAT', `${tag} ${toHex(v)} is not a YYMMDD date`);
  }
  const pan = data.get('5A');
  if (pan && !/^\d{12,19}F*$/.test(toHex(pan))) throw new KernelError('DATA_FORMAT', 'PAN (5A) is not 12 to 19 decimal digits padded with F');
}

function isDate(yymmdd: string): boolean {
  if (!/^\d{6}$/.test(yymmdd)) return false;
  const mm = Number(yymmdd.slice(2, 4)), dd = Number(yymmdd.slice(4, 6));
  return mm >= 1 && mm <= 12 && dd >= 1 && dd <= 31;
}
