// The ID-length-value format of EMV QRCPS Merchant-Presented Mode §4.7: two-digit ID,
// two-digit length counted in characters, then the value; templates nest the same format.
import { QrError } from './errors.ts';

export interface QrObject { id: string; value: string }

const chars = (s: string) => Array.from(s);

export function parseQrObjects(payload: string, where = 'payload'): QrObject[] {
  const c = chars(payload);
  const out: QrObject[] = [];
  let i = 0;
  while (i < c.length) {
    const head = c.slice(i, i + 4).join('');
    if (!/^\d{4}$/.test(head)) throw new QrError('MALFORMED', `${where}: expected ID and length digits at character ${i}, got '${head}'`);
    const id = head.slice(0, 2), len = Number(head.slice(2));
    if (i + 4 + len > c.length) throw new QrError('MALFORMED', `${where}: ID ${id} says ${len} characters, ${c.length - i - 4} remain`, id);
    out.push({ id, value: c.slice(i + 4, i + 4 + len).join('') });
    i += 4 + len;
  }
  return out;
}

export function encodeQrObject(id: string, value: string): string {
  if (!/^\d{2}$/.test(id)) throw new QrError('INVALID_FIELD', `ID '${id}' is not two digits`, id);
  const n = chars(value).length;
  if (n > 99) throw new QrError('TOO_LONG', `ID ${id} value of ${n} characters exceeds 99`, id);
  return id + String(n).padStart(2, '0') + value;
}
