// The ID-length-value format of EMV QRCPS Merchant-Presented Mode §3.2 / §4.3–4.4: two-digit
// ID, two-digit length "01".."99" counted in characters, then the value; templates nest the
// same format, and an ID occurs at most once under the root and within each template.
import { QrError } from './errors.ts';

export interface QrObject { id: string; value: string; /** character index of the ID */ at: number }

const chars = (s: string) => Array.from(s);

export function parseQrObjects(payload: string, where = 'payload'): QrObject[] {
  const c = chars(payload);
  const out: QrObject[] = [];
  let i = 0;
  while (i < c.length) {
    const head = c.slice(i, i + 4).join('');
    if (!/^\d{4}$/.test(head)) throw new QrError('MALFORMED', `${where}: expected ID and length digits at character ${i}, got '${head}'`);
    const id = head.slice(0, 2), len = Number(head.slice(2));
    if (len === 0) throw new QrError('MALFORMED', `${where}: ID ${id} has length 00 (lengths are 01..99, §4.4.1.2)`, id);
    if (i + 4 + len > c.length) throw new QrError('MALFORMED', `${where}: ID ${id} says ${len} characters, ${c.length - i - 4} remain`, id);
    out.push({ id, value: c.slice(i + 4, i + 4 + len).join(''), at: i });
    i += 4 + len;
  }
  return out;
}

export function encodeQrObject(id: string, value: string): string {
  if (!/^\d{2}$/.test(id)) throw new QrError('INVALID_FIELD', `ID '${id}' is not two digits`, id);
  const n = chars(value).length;
  if (n === 0) throw new QrError('INVALID_FIELD', `ID ${id} has an empty value (lengths are 01..99)`, id);
  if (n > 99) throw new QrError('TOO_LONG', `ID ${id} value of ${n} characters exceeds 99`, id);
  return id + String(n).padStart(2, '0') + value;
}

/** The objects of one template (or the root) by ID, refusing an ID that occurs twice (§4.3.1.2). */
export function qrFields(objs: readonly QrObject[], where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of objs) {
    if (o.id in out) throw new QrError('DUPLICATE_FIELD', `${where}: ID ${o.id} appears twice (§4.3.1.2)`, o.id);
    out[o.id] = o.value;
  }
  return out;
}
