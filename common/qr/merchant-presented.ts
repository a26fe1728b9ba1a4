// EMV QRCPS Merchant-Presented Mode (v1.1): generate and parse static (01 = 11) and dynamic
// (01 = 12) merchant QR payloads, with merchant account information for the reserved networks
// (02–25, UnionPay at 15–16) and templates 26–51 (sub-ID 00 = globally unique identifier), the
// additional data template 62, the language template 64, and the CRC (63) over everything
// before its value.
import { crcHex } from './crc16.ts';
import { QrError } from './errors.ts';
import { encodeQrObject, parseQrObjects, type QrObject } from './tlv-qr.ts';

export interface AccountTemplate { id: string; gui: string; fields: Record<string, string> }

export interface MerchantQr {
  pointOfInitiation: 'static' | 'dynamic';
  /** primitive accounts of the reserved networks, by ID ('02'..'25'), e.g. UnionPay '15' */
  accounts: Record<string, string>;
  /** templates 26–51 */
  templates: AccountTemplate[];
  merchantCategoryCode: string;
  /** ISO 4217 numeric, 3 digits */
  currency: string;
  /** decimal string, e.g. '23.72'; required for dynamic codes */
  amount?: string;
  tipIndicator?: '01' | '02' | '03';
  convenienceFeeFixed?: string;
  convenienceFeePercentage?: string;
  countryCode: string;
  merchantName: string;
  merchantCity: string;
  postalCode?: string;
  /** template 62 sub-fields by sub-ID, e.g. { '01': bill number, '05': reference label, '07': terminal label } */
  additionalData?: Record<string, string>;
  /** template 64: language preference (00), name (01), city (02) */
  language?: { preference: string; name: string; city?: string };
  /** other IDs (65–99) kept as they are */
  other?: Record<string, string>;
}

export const UNIONPAY_RID = 'A000000333';

const NETWORK_IDS: Record<string, string> = {
  '02': 'Visa', '03': 'Visa', '04': 'Mastercard', '05': 'Mastercard', '09': 'Discover', '10': 'Discover',
  '11': 'Amex', '12': 'Amex', '13': 'JCB', '14': 'JCB', '15': 'UnionPay', '16': 'UnionPay',
};
export const networkOf = (id: string): string | undefined => NETWORK_IDS[id];

function need(cond: unknown, field: string, msg: string): asserts cond {
  if (!cond) throw new QrError('INVALID_FIELD', `${field}: ${msg}`, field);
}

function validate(q: MerchantQr): void {
  need(/^\d{4}$/.test(q.merchantCategoryCode), '52', 'merchant category code must be 4 digits');
  need(/^\d{3}$/.test(q.currency), '53', 'currency must be 3 digits (ISO 4217 numeric)');
  need(/^[A-Z]{2}$/.test(q.countryCode), '58', 'country code must be 2 letters (ISO 3166-1 alpha-2)');
  need(q.merchantName.length >= 1 && q.merchantName.length <= 25, '59', 'merchant name must be 1..25 characters');
  need(q.merchantCity.length >= 1 && q.merchantCity.length <= 15, '60', 'merchant city must be 1..15 characters');
  if (q.amount !== undefined) need(/^(?=.{1,13}$)\d+(\.\d+)?$/.test(q.amount) && Number(q.amount) > 0, '54', 'amount must be a positive decimal of at most 13 characters');
  if (q.pointOfInitiation === 'dynamic') need(q.amount !== undefined, '54', 'a dynamic code carries the amount');
  need(Object.keys(q.accounts).length + q.templates.length > 0, '02-51', 'at least one merchant account is required');
  for (const id of Object.keys(q.accounts)) need(/^(0[2-9]|1\d|2[0-5])$/.test(id), id, 'primitive merchant accounts use IDs 02..25');
  for (const t of q.templates) need(/^(2[6-9]|[34]\d|5[01])$/.test(t.id) && t.gui.length >= 1 && t.gui.length <= 32, t.id, 'templates use IDs 26..51 with a GUI of 1..32 characters');
  if (q.tipIndicator === '02') need(q.convenienceFeeFixed !== undefined, '56', 'tip indicator 02 needs a fixed fee');
  if (q.tipIndicator === '03') need(q.convenienceFeePercentage !== undefined, '57', 'tip indicator 03 needs a percentage');
}

export function generateMerchantQr(q: MerchantQr): string {
  validate(q);
  const sub = (fields: Record<string, string>) => Object.entries(fields).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => encodeQrObject(k, v)).join('');
  const parts: Array<[string, string]> = [['00', '01'], ['01', q.pointOfInitiation === 'static' ? '11' : '12']];
  for (const [id, v] of Object.entries(q.accounts)) parts.push([id, v]);
  for (const t of q.templates) parts.push([t.id, encodeQrObject('00', t.gui) + sub(t.fields)]);
  parts.push(['52', q.merchantCategoryCode], ['53', q.currency]);
  if (q.amount !== undefined) parts.push(['54', q.amount]);
  if (q.tipIndicator) parts.push(['55', q.tipIndicator]);
  if (q.convenienceFeeFixed) parts.push(['56', q.convenienceFeeFixed]);
  if (q.convenienceFeePercentage) parts.push(['57', q.convenienceFeePercentage]);
  parts.push(['58', q.countryCode], ['59', q.merchantName], ['60', q.merchantCity]);
  if (q.postalCode) parts.push(['61', q.postalCode]);
  if (q.additionalData && Object.keys(q.additionalData).length) parts.push(['62', sub(q.additionalData)]);
  if (q.language) parts.push(['64', sub({ '00': q.language.preference, '01': q.language.name, ...(q.language.city ? { '02': q.language.city } : {}) })]);
  for (const [id, v] of Object.entries(q.other ?? {})) parts.push([id, v]);
  // IDs in ascending order (the spec's presentation; 00 must be first, 63 last).
  parts.sort(([a], [b]) => (a === '00' ? -1 : b === '00' ? 1 : a.localeCompare(b)));
  const body = parts.map(([id, v]) => encodeQrObject(id, v)).join('') + '6304';
  return body + crcHex(body);
}

const subFields = (objs: QrObject[]) => Object.fromEntries(objs.map((o) => [o.id, o.value]));

export function parseMerchantQr(payload: string): MerchantQr {
  if (!payload.startsWith('000201')) throw new QrError('MALFORMED', 'payload must start with payload format indicator 00 = "01"', '00');
  const crcAt = payload.length - 8;
  if (crcAt < 0 || payload.slice(crcAt, crcAt + 4) !== '6304') throw new QrError('CRC_MISSING', 'payload must end with CRC object 63 (4 characters)', '63');
  const want = crcHex(payload.slice(0, crcAt + 4));
  if (payload.slice(crcAt + 4).toUpperCase() !== want) throw new QrError('CRC_INVALID', `CRC ${payload.slice(crcAt + 4)} does not match ${want}`, '63');

  const objs = parseQrObjects(payload.slice(0, crcAt));
  const seen = new Set<string>();
  const q: Partial<MerchantQr> & { accounts: Record<string, string>; templates: AccountTemplate[] } = { accounts: {}, templates: [] };
  for (const { id, value } of objs) {
    if (seen.has(id)) throw new QrError('MALFORMED', `ID ${id} appears twice`, id);
    seen.add(id);
    const n = Number(id);
    if (id === '00') need(value === '01', '00', 'payload format indicator must be 01');
    else if (id === '01') { need(value === '11' || value === '12', '01', 'point of initiation must be 11 or 12'); q.pointOfInitiation = value === '11' ? 'static' : 'dynamic'; }
    else if (n >= 2 && n <= 25) q.accounts[id] = value;
    else if (n >= 26 && n <= 51) {
      const f = subFields(parseQrObjects(value, `template ${id}`));
      need(f['00'], id, 'template lacks its globally unique identifier (00)');
      const { '00': gui, ...fields } = f;
      q.templates.push({ id, gui: gui!, fields });
    }
    else if (id === '52') q.merchantCategoryCode = value;
    else if (id === '53') q.currency = value;
    else if (id === '54') q.amount = value;
    else if (id === '55') q.tipIndicator = value as MerchantQr['tipIndicator'];
    else if (id === '56') q.convenienceFeeFixed = value;
    else if (id === '57') q.convenienceFeePercentage = value;
    else if (id === '58') q.countryCode = value;
    else if (id === '59') q.merchantName = value;
    else if (id === '60') q.merchantCity = value;
    else if (id === '61') q.postalCode = value;
    else if (id === '62') q.additionalData = subFields(parseQrObjects(value, 'template 62'));
    else if (id === '64') {
      const f = subFields(parseQrObjects(value, 'template 64'));
      need(f['00'] && f['01'], '64', 'language template needs preference (00) and name (01)');
      q.language = { preference: f['00']!, name: f['01']!, ...(f['02'] ? { city: f['02'] } : {}) };
    } else (q.other ??= {})[id] = value;
  }
  for (const [id, field] of [['01', 'pointOfInitiation'], ['52', 'merchantCategoryCode'], ['53', 'currency'], ['58', 'countryCode'], ['59', 'merchantName'], ['60', 'merchantCity']] as const) {
    if (q[field] === undefined) throw new QrError('MISSING_FIELD', `mandatory ID ${id} missing`, id);
  }
  const out = q as MerchantQr;
  validate(out);
  return out;
}

/** UnionPay merchant account (ID 15): the UnionPay RID, the acquirer IIN (8 digits) and the
 *  merchant ID (15 characters). ASSUMED layout: UnionPay's QR specification is not public and
 *  this could not be checked (docs/contactless.md); parseMerchantQr keeps ID 15 verbatim. */
export function unionPayAccount(acquirerIin: string, merchantId: string): string {
  need(/^\d{8}$/.test(acquirerIin), '15', 'acquirer IIN must be 8 digits');
  need(/^[0-9A-Za-z]{15}$/.test(merchantId), '15', 'merchant ID must be 15 alphanumeric characters');
  return UNIONPAY_RID + acquirerIin + merchantId;
}

export function parseUnionPayAccount(value: string): { acquirerIin: string; merchantId: string } {
  const m = /^A000000333(\d{8})([0-9A-Za-z]{15})$/.exec(value);
  if (!m) throw new QrError('INVALID_FIELD', 'UnionPay merchant account is not RID + acquirer IIN (8) + merchant ID (15)', '15');
  return { acquirerIin: m[1]!, merchantId: m[2]! };
}
