// EMV QRCPS Merchant-Presented Mode (v1.0 July 2017, v1.1 November 2020): generate and parse
// static (01 = 11) and dynamic (01 = 12) merchant QR payloads. The rules applied, by clause:
//   §4.6.1  ID 00 ("01", §4.7.1) the first data object, ID 63 (CRC, 4 characters, §4.7.3) the last;
//   §4.3–4.4  two-digit IDs, lengths "01".."99" in characters, each ID once under the root and once
//          in each template;
//   Table 3.6  formats and lengths of the root objects (N, ans = EMV Book 4 Common Character Set,
//          S), mandatory 00, 52, 53, 58, 59, 60, 63 and at least one merchant account (02–51);
//          01 optional; 54 per §4.7.4 ("98.73", "98", "98."; not zero); 56 only with 55 = "02",
//          57 only with 55 = "03" (§4.7.7, §4.7.8);
//   §4.7.9–4.7.11  IDs 02–25 primitive accounts of the reserved networks (UnionPay: 15–16, a
//          primitive ans value whose layout UnionPay defines, kept verbatim), 26–51 templates
//          with a Globally Unique Identifier 00 (an AID, a UUID or a reverse domain name, ≤ 32);
//   §4.8  template 62 (Table 3.7): 01–08 ans ≤ 25, 09 any of "A", "M", "E" once each, 50–99
//          payment system templates with a GUI 00; §4.9 template 64: 00 and 01 present;
//   §4.11  unreserved templates 80–99 carry a GUI 00.
import { crcHex } from './crc16.ts';
import { QrError } from './errors.ts';
import { encodeQrObject, parseQrObjects, qrFields } from './tlv-qr.ts';

export interface AccountTemplate { id: string; gui: string; fields: Record<string, string> }

export interface MerchantQr {
  /** ID 01, optional (§4.7.2): 'static' = "11", 'dynamic' = "12". */
  pointOfInitiation?: 'static' | 'dynamic';
  /** primitive accounts of the reserved networks, by ID ('02'..'25'), e.g. UnionPay '15' */
  accounts: Record<string, string>;
  /** templates 26–51 */
  templates: AccountTemplate[];
  merchantCategoryCode: string;
  /** ISO 4217 numeric, 3 digits */
  currency: string;
  /** decimal string, e.g. '23.72' (§4.7.4); the generator requires it for dynamic codes */
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
  /** other IDs (65–79 RFU, 80–99 unreserved templates) kept as they are */
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

const ANS = /^[\x20-\x7e]*$/; // EMV Book 4 Annex B Common Character Set
const AMOUNT = /^\d+(\.\d*)?$/; // §4.7.4: digits, one optional "." ("98." too)
const ans = (v: string, max: number) => ANS.test(v) && v.length >= 1 && v.length <= max;

/** The root's field rules (Table 3.6, §4.7), for what is parsed and what is generated alike. */
function validate(q: MerchantQr): void {
  need(/^\d{4}$/.test(q.merchantCategoryCode), '52', 'merchant category code must be 4 digits');
  need(/^\d{3}$/.test(q.currency), '53', 'currency must be 3 digits (ISO 4217 numeric)');
  need(/^[A-Z]{2}$/.test(q.countryCode), '58', 'country code must be 2 letters (ISO 3166-1 alpha-2)');
  need(ans(q.merchantName, 25), '59', 'merchant name must be 1..25 characters of the Common Character Set');
  need(ans(q.merchantCity, 15), '60', 'merchant city must be 1..15 characters of the Common Character Set');
  if (q.postalCode !== undefined) need(ans(q.postalCode, 10), '61', 'postal code must be 1..10 characters of the Common Character Set');
  if (q.amount !== undefined) need(q.amount.length <= 13 && AMOUNT.test(q.amount) && Number(q.amount) > 0, '54', 'amount must be digits with an optional "." (at most 13 characters), not zero (§4.7.4)');
  if (q.tipIndicator !== undefined) need(['01', '02', '03'].includes(q.tipIndicator), '55', 'tip or convenience indicator must be 01, 02 or 03 (§4.7.6)');
  need((q.tipIndicator === '02') === (q.convenienceFeeFixed !== undefined), '56', 'a fixed convenience fee is present exactly when the tip indicator is 02 (§4.7.7)');
  if (q.convenienceFeeFixed !== undefined) need(q.convenienceFeeFixed.length <= 13 && AMOUNT.test(q.convenienceFeeFixed) && Number(q.convenienceFeeFixed) > 0, '56', 'fixed convenience fee must be digits with an optional ".", not zero (§4.7.7)');
  need((q.tipIndicator === '03') === (q.convenienceFeePercentage !== undefined), '57', 'a convenience fee percentage is present exactly when the tip indicator is 03 (§4.7.8)');
  if (q.convenienceFeePercentage !== undefined) {
    const v = q.convenienceFeePercentage;
    need(v.length <= 5 && AMOUNT.test(v) && Number(v) >= 0.01 && Number(v) <= 99.99, '57', 'convenience fee percentage must be 00.01..99.99 without "%" (§4.7.8)');
  }
  need(Object.keys(q.accounts).length + q.templates.length > 0, '02-51', 'at least one merchant account is required (§4.7.9)');
  for (const [id, v] of Object.entries(q.accounts)) {
    need(/^(0[2-9]|1\d|2[0-5])$/.test(id), id, 'primitive merchant accounts use IDs 02..25');
    need(ans(v, 99), id, 'a primitive merchant account is 1..99 characters of the Common Character Set');
  }
  for (const t of q.templates) need(/^(2[6-9]|[34]\d|5[01])$/.test(t.id) && ans(t.gui, 32), t.id, 'templates use IDs 26..51 with a globally unique identifier (00) of 1..32 characters (§4.7.11)');
  if (q.additionalData) {
    for (const [id, v] of Object.entries(q.additionalData)) {
      if (/^0[1-8]$/.test(id)) need(ans(v, 25), `62.${id}`, 'additional data 01..08 are 1..25 characters of the Common Character Set (Table 3.7)');
      if (id === '09') need(/^[AME]{1,3}$/.test(v) && new Set(v).size === v.length, '62.09', 'additional consumer data request is "A", "M" and/or "E", each once (§4.8.1.3)');
      if (/^[5-9]\d$/.test(id)) needGui(v, `62.${id}`);
    }
  }
  if (q.language) {
    need(/^[A-Za-z]{2}$/.test(q.language.preference), '64.00', 'language preference is 2 letters (ISO 639, §4.9.2)');
    need(q.language.name.length >= 1 && Array.from(q.language.name).length <= 25, '64.01', 'alternate merchant name is 1..25 characters');
    if (q.language.city !== undefined) need(q.language.city.length >= 1 && Array.from(q.language.city).length <= 15, '64.02', 'alternate merchant city is 1..15 characters');
  }
  for (const [id, v] of Object.entries(q.other ?? {})) {
    need(/^(6[5-9]|[7-9]\d)$/.test(id), id, 'other data objects use IDs 65..99');
    if (Number(id) >= 80) needGui(v, id);
  }
}

/** A template that §4.8.1.5 / §4.11.1.2 says carries a Globally Unique Identifier (00). */
function needGui(value: string, field: string): void {
  const f = qrFields(parseQrObjects(value, `template ${field}`), `template ${field}`);
  if (f['00'] === undefined) throw new QrError('MISSING_FIELD', `template ${field} lacks its globally unique identifier (00)`, field);
  need(ans(f['00'], 32), field, 'the globally unique identifier (00) is 1..32 characters of the Common Character Set');
}

export function generateMerchantQr(q: MerchantQr): string {
  validate(q);
  // Our policy, not the specification's: a dynamic code we make names its amount.
  if (q.pointOfInitiation === 'dynamic') need(q.amount !== undefined, '54', 'a dynamic code carries the amount');
  const sub = (fields: Record<string, string>) => Object.entries(fields).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => encodeQrObject(k, v)).join('');
  const parts: Array<[string, string]> = [['00', '01']];
  if (q.pointOfInitiation) parts.push(['01', q.pointOfInitiation === 'static' ? '11' : '12']);
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

export function parseMerchantQr(payload: string): MerchantQr {
  if (!/^\d{4}/.test(payload)) throw new QrError('MALFORMED', 'a merchant-presented payload begins with an ID and a length (4 digits)');
  if (!payload.startsWith('00')) throw new QrError('MISPLACED_FIELD', `the payload format indicator (ID 00) must be the first data object, not ID ${payload.slice(0, 2)} (§4.6.1.1)`, '00');
  const crcAt = payload.length - 8;
  if (crcAt < 0 || payload.slice(crcAt, crcAt + 4) !== '6304') throw new QrError('CRC_MISSING', 'payload must end with CRC object 63 (4 characters, §4.6.1.2)', '63');
  const want = crcHex(payload.slice(0, crcAt + 4));
  if (payload.slice(crcAt + 4).toUpperCase() !== want) throw new QrError('CRC_INVALID', `CRC ${payload.slice(crcAt + 4)} does not match ${want}`, '63');

  // The whole payload as data objects: the CRC must be one of them (not the tail of a value), the last.
  const objs = parseQrObjects(payload);
  const crcObj = objs[objs.length - 1]!;
  if (crcObj.id !== '63' || crcObj.at !== Array.from(payload.slice(0, crcAt)).length) throw new QrError('CRC_MISSING', 'the payload\'s last data object is not the CRC (ID 63, §4.6.1.2)', '63');
  for (const o of objs.slice(0, -1)) if (o.id === '63') throw new QrError('MISPLACED_FIELD', 'the CRC (ID 63) must be the last data object (§4.6.1.2)', '63');
  const root = qrFields(objs, 'payload');
  need(root['00'] === '01', '00', 'payload format indicator must be "01" (§4.7.1)');

  const q: MerchantQr = {
    accounts: {}, templates: [], merchantCategoryCode: root['52']!, currency: root['53']!, countryCode: root['58']!, merchantName: root['59']!, merchantCity: root['60']!,
  };
  for (const [id, value] of Object.entries(root).sort(([a], [b]) => a.localeCompare(b))) {
    const n = Number(id);
    if (id === '00' || id === '63' || ['52', '53', '58', '59', '60'].includes(id)) continue;
    if (id === '01') { need(value === '11' || value === '12', '01', 'point of initiation must be 11 or 12 (§4.7.2)'); q.pointOfInitiation = value === '11' ? 'static' : 'dynamic'; }
    else if (n >= 2 && n <= 25) q.accounts[id] = value;
    else if (n >= 26 && n <= 51) {
      const f = qrFields(parseQrObjects(value, `template ${id}`), `template ${id}`);
      if (f['00'] === undefined) throw new QrError('MISSING_FIELD', `template ${id} lacks its globally unique identifier (00, §4.7.11.2)`, id);
      const { '00': gui, ...fields } = f;
      q.templates.push({ id, gui: gui!, fields });
    }
    else if (id === '54') q.amount = value;
    else if (id === '55') q.tipIndicator = value as MerchantQr['tipIndicator'];
    else if (id === '56') q.convenienceFeeFixed = value;
    else if (id === '57') q.convenienceFeePercentage = value;
    else if (id === '61') q.postalCode = value;
    else if (id === '62') q.additionalData = qrFields(parseQrObjects(value, 'template 62'), 'template 62');
    else if (id === '64') {
      const f = qrFields(parseQrObjects(value, 'template 64'), 'template 64');
      if (f['00'] === undefined || f['01'] === undefined) throw new QrError('MISSING_FIELD', 'language template 64 needs language preference (00) and alternate name (01) (§4.9.1.1)', '64');
      q.language = { preference: f['00'], name: f['01'], ...(f['02'] !== undefined ? { city: f['02'] } : {}) };
    } else (q.other ??= {})[id] = value;
  }
  for (const [id, field] of [['52', 'merchantCategoryCode'], ['53', 'currency'], ['58', 'countryCode'], ['59', 'merchantName'], ['60', 'merchantCity']] as const) {
    if (q[field] === undefined) throw new QrError('MISSING_FIELD', `mandatory ID ${id} missing (Table 3.6)`, id);
  }
  if (!Object.keys(q.accounts).length && !q.templates.length) throw new QrError('MISSING_FIELD', 'no merchant account information (IDs 02..51, §4.7.9.1)', '02-51');
  validate(q);
  return q;
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
