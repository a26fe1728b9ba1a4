// EMVCo merchant-presented QR decisions (common/qr/merchant-presented.ts, tlv-qr.ts), one row
// per rule: each root field's format at and one past its bounds, the tip indicator rules
// (55/56/57), the point of initiation, duplicate IDs, IDs 56, 57 and 61 parsed into their
// fields, the templates' identifiers, the generator's output and the UnionPay account formats.
import { describe, expect, it } from 'vitest';
import { crcHex } from '../../common/qr/crc16.ts';
import { encodeQrObject, parseQrObjects, qrFields } from '../../common/qr/tlv-qr.ts';
import { generateMerchantQr, networkOf, parseMerchantQr, parseUnionPayAccount, unionPayAccount, UNIONPAY_RID, type MerchantQr } from '../../common/qr/merchant-presented.ts';
import { QrError } from '../../common/qr/errors.ts';

const withCrc = (body: string) => body + '6304' + crcHex(body + '6304');
const ROOT: Array<[string, string]> = [['00', '01'], ['01', '12'], ['15', 'A0000003334802000012345678901234'], ['52', '5812'], ['53', '156'], ['54', '23.72'], ['58', 'CN'], ['59', 'BEST TRANSPORT'], ['60', 'BEIJING']];
const mpm = (objs: Array<[string, string]>) => withCrc(objs.map(([id, v]) => encodeQrObject(id, v)).join(''));
const edit = (changes: Record<string, string | null>, extra: Array<[string, string]> = []) =>
  mpm([...ROOT.filter(([id]) => changes[id] !== null).map(([id, v]): [string, string] => [id, changes[id] ?? v]), ...extra]);
const outcomeOf = (fn: () => unknown) => { try { fn(); return 'ok'; } catch (e) { return e instanceof QrError ? `${e.code} ${e.field ?? ''}`.trim() : `thrown ${String(e)}`; } };
const parse = (changes: Record<string, string | null>, extra: Array<[string, string]> = []) => outcomeOf(() => parseMerchantQr(edit(changes, extra)));

describe('root fields at their bounds (Table 3.6, §4.7)', () => {
  const table: Array<[string, Record<string, string | null>, Array<[string, string]>, string]> = [
    ['point of initiation 11 (static)', { '01': '11', '54': null }, [], 'ok'],
    ['point of initiation 12 (dynamic)', { '01': '12' }, [], 'ok'],
    ['point of initiation 10', { '01': '10' }, [], 'INVALID_FIELD 01'],
    ['point of initiation 1', { '01': '1' }, [], 'INVALID_FIELD 01'],
    ['point of initiation 112', { '01': '112' }, [], 'INVALID_FIELD 01'],
    ['payload format 01 only', { '00': '1' }, [], 'INVALID_FIELD 00'],
    ['MCC 4 digits', { '52': '0000' }, [], 'ok'],
    ['MCC 5 digits', { '52': '58120' }, [], 'INVALID_FIELD 52'],
    ['MCC with a letter', { '52': '581A' }, [], 'INVALID_FIELD 52'],
    ['MCC missing', { '52': null }, [], 'MISSING_FIELD 52'],
    ['currency 2 digits', { '53': '15' }, [], 'INVALID_FIELD 53'],
    ['currency 4 digits', { '53': '0156' }, [], 'INVALID_FIELD 53'],
    ['currency alphabetic', { '53': 'CNY' }, [], 'INVALID_FIELD 53'],
    ['currency missing', { '53': null }, [], 'MISSING_FIELD 53'],
    ['amount "98"', { '54': '98' }, [], 'ok'],
    ['amount "98."', { '54': '98.' }, [], 'ok'],
    ['amount "0.01"', { '54': '0.01' }, [], 'ok'],
    ['amount of 13 characters', { '54': '1234567890.12' }, [], 'ok'],
    ['amount of 14 characters', { '54': '12345678901.12' }, [], 'INVALID_FIELD 54'],
    ['amount "0"', { '54': '0' }, [], 'INVALID_FIELD 54'],
    ['amount "0."', { '54': '0.' }, [], 'INVALID_FIELD 54'],
    ['amount "x1.00"', { '54': 'x1.00' }, [], 'INVALID_FIELD 54'],
    ['amount "1.00x"', { '54': '1.00x' }, [], 'INVALID_FIELD 54'],
    ['amount ".50"', { '54': '.50' }, [], 'INVALID_FIELD 54'],
    ['amount "1.0.0"', { '54': '1.0.0' }, [], 'INVALID_FIELD 54'],
    ['amount "-1"', { '54': '-1' }, [], 'INVALID_FIELD 54'],
    ['amount "1e3"', { '54': '1e3' }, [], 'INVALID_FIELD 54'],
    ['amount " 1"', { '54': ' 1' }, [], 'INVALID_FIELD 54'],
    ['country "cn"', { '58': 'cn' }, [], 'INVALID_FIELD 58'],
    ['country "CHN"', { '58': 'CHN' }, [], 'INVALID_FIELD 58'],
    ['country "C1"', { '58': 'C1' }, [], 'INVALID_FIELD 58'],
    ['country missing', { '58': null }, [], 'MISSING_FIELD 58'],
    ['name of 25 characters', { '59': 'A'.repeat(25) }, [], 'ok'],
    ['name of 26 characters', { '59': 'A'.repeat(26) }, [], 'INVALID_FIELD 59'],
    ['name outside the Common Character Set', { '59': 'CAFÉ' }, [], 'INVALID_FIELD 59'],
    ['name with a tilde (last of the set)', { '59': 'A~' }, [], 'ok'],
    ['name with a control character', { '59': 'A\x7f' }, [], 'INVALID_FIELD 59'],
    ['name missing', { '59': null }, [], 'MISSING_FIELD 59'],
    ['city of 15 characters', { '60': 'B'.repeat(15) }, [], 'ok'],
    ['city of 16 characters', { '60': 'B'.repeat(16) }, [], 'INVALID_FIELD 60'],
    ['city outside the set', { '60': '北京' }, [], 'INVALID_FIELD 60'],
    ['city missing', { '60': null }, [], 'MISSING_FIELD 60'],
    ['postal code of 10 characters', {}, [['61', '1234567890']], 'ok'],
    ['postal code of 11 characters', {}, [['61', '12345678901']], 'INVALID_FIELD 61'],
    ['postal code outside the set', {}, [['61', '北京']], 'INVALID_FIELD 61'],
    ['a duplicate ID (54 twice)', {}, [['54', '1.00']], 'DUPLICATE_FIELD 54'],
    ['a duplicate account ID', {}, [['15', 'A0000003334802000012345678901235']], 'DUPLICATE_FIELD 15'],
    ['account ID 02', { '15': null }, [['02', '4000123412341234']], 'ok'],
    ['account ID 25', { '15': null }, [['25', 'X']], 'ok'],
    ['an account of 99 characters', { '15': 'A'.repeat(99) }, [], 'ok'],
    ['template account 26 with a GUI', { '15': null }, [['26', '0012com.p2pqrpay0104ABCD']], 'ok'],
    ['template account 51 with a GUI', { '15': null }, [['51', '0002ID']], 'ok'],
    ['template GUI of 32 characters', { '15': null }, [['26', '0032' + 'G'.repeat(32)]], 'ok'],
    ['template GUI of 33 characters', { '15': null }, [['26', '0033' + 'G'.repeat(33)]], 'INVALID_FIELD 26'],
    ['template account with a duplicate sub-ID', { '15': null }, [['26', '0002ID0101A0101B']], 'DUPLICATE_FIELD 01'],
    ['template account not ID-length-value', { '15': null }, [['26', '00X2ID']], 'MALFORMED'],
    ['RFU ID 65 kept', {}, [['65', 'x']], 'ok'],
    ['unreserved template 80 with a GUI', {}, [['80', '0002ID']], 'ok'],
    ['unreserved template 99 without a GUI', {}, [['99', '0102ID']], 'MISSING_FIELD 99'],
    ['unreserved template 80 with a GUI of 33', {}, [['80', '0033' + 'G'.repeat(33)]], 'INVALID_FIELD 80'],
  ];
  for (const [what, changes, extra, want] of table) it(`${what} → ${want}`, () => expect(parse(changes, extra)).toBe(want));
});

describe('tip or convenience indicator (55) and the fees (56, 57) (§4.7.5–4.7.8)', () => {
  const table: Array<[string, Array<[string, string]>, string]> = [
    ['no indicator, no fee', [], 'ok'],
    ['01: the consumer is prompted for a tip, no fee', [['55', '01']], 'ok'],
    ['01 with a fixed fee', [['55', '01'], ['56', '1.00']], 'INVALID_FIELD 56'],
    ['01 with a percentage', [['55', '01'], ['57', '1.00']], 'INVALID_FIELD 57'],
    ['02 with a fixed fee', [['55', '02'], ['56', '1.00']], 'ok'],
    ['02 without the fixed fee', [['55', '02']], 'INVALID_FIELD 56'],
    ['02 with a percentage instead', [['55', '02'], ['57', '1.00']], 'INVALID_FIELD 56'],
    ['02 with both', [['55', '02'], ['56', '1.00'], ['57', '1.00']], 'INVALID_FIELD 57'],
    ['03 with a percentage', [['55', '03'], ['57', '3.00']], 'ok'],
    ['03 without the percentage', [['55', '03']], 'INVALID_FIELD 57'],
    ['03 with a fixed fee instead', [['55', '03'], ['56', '1.00']], 'INVALID_FIELD 56'],
    ['a fixed fee without an indicator', [['56', '1.00']], 'INVALID_FIELD 56'],
    ['a percentage without an indicator', [['57', '1.00']], 'INVALID_FIELD 57'],
    ['indicator 00', [['55', '00']], 'INVALID_FIELD 55'],
    ['indicator 04', [['55', '04']], 'INVALID_FIELD 55'],
    ['indicator 1', [['55', '1']], 'INVALID_FIELD 55'],
    ['fixed fee "0"', [['55', '02'], ['56', '0']], 'INVALID_FIELD 56'],
    ['fixed fee "0.00"', [['55', '02'], ['56', '0.00']], 'INVALID_FIELD 56'],
    ['fixed fee "x1"', [['55', '02'], ['56', 'x1']], 'INVALID_FIELD 56'],
    ['fixed fee of 13 characters', [['55', '02'], ['56', '1234567890.12']], 'ok'],
    ['fixed fee of 14 characters', [['55', '02'], ['56', '12345678901.12']], 'INVALID_FIELD 56'],
    ['percentage 0.01', [['55', '03'], ['57', '0.01']], 'ok'],
    ['percentage 0.009', [['55', '03'], ['57', '0.009']], 'INVALID_FIELD 57'],
    ['percentage 0', [['55', '03'], ['57', '0']], 'INVALID_FIELD 57'],
    ['percentage 99.99', [['55', '03'], ['57', '99.99']], 'ok'],
    ['percentage 99.995 (6 characters)', [['55', '03'], ['57', '99.995']], 'INVALID_FIELD 57'],
    ['percentage 100', [['55', '03'], ['57', '100']], 'INVALID_FIELD 57'],
    ['percentage "5"', [['55', '03'], ['57', '5']], 'ok'],
    ['percentage "a5"', [['55', '03'], ['57', 'a5']], 'INVALID_FIELD 57'],
  ];
  for (const [what, extra, want] of table) it(`${what} → ${want}`, () => expect(parse({}, extra)).toBe(want));
});

describe('IDs parsed into their fields', () => {
  it('56, 57, 61, 01 and 54 land in their fields', () => {
    expect(parseMerchantQr(edit({}, [['55', '02'], ['56', '1.50'], ['61', '100000']]))).toMatchObject({ tipIndicator: '02', convenienceFeeFixed: '1.50', postalCode: '100000', pointOfInitiation: 'dynamic', amount: '23.72' });
    const q = parseMerchantQr(edit({ '01': '11', '54': null }, [['55', '03'], ['57', '2.5']]));
    expect([q.tipIndicator, q.convenienceFeePercentage, q.convenienceFeeFixed, q.pointOfInitiation, q.amount, q.postalCode]).toEqual(['03', '2.5', undefined, 'static', undefined, undefined]);
  });
  it('every root field of the base payload', () => {
    expect(parseMerchantQr(edit({}))).toEqual({
      pointOfInitiation: 'dynamic', accounts: { '15': 'A0000003334802000012345678901234' }, templates: [], merchantCategoryCode: '5812', currency: '156', amount: '23.72',
      countryCode: 'CN', merchantName: 'BEST TRANSPORT', merchantCity: 'BEIJING',
    });
  });
  it('templates: account templates with their GUI, additional data, language, others', () => {
    const q = parseMerchantQr(edit({}, [['27', '0002ID0203abc0101x'], ['26', '0004GUI1'], ['62', '0105BILL10703T01'], ['64', '0002ZH0104最佳运输0202北京'], ['70', 'rfu'], ['80', '0002ID01019']]));
    expect(q.templates).toEqual([{ id: '26', gui: 'GUI1', fields: {} }, { id: '27', gui: 'ID', fields: { '01': 'x', '02': 'abc' } }]);
    expect(q.additionalData).toEqual({ '01': 'BILL1', '07': 'T01' });
    expect(q.language).toEqual({ preference: 'ZH', name: '最佳运输', city: '北京' });
    expect(q.other).toEqual({ '70': 'rfu', '80': '0002ID01019' });
    expect(parseMerchantQr(edit({}, [['64', '0002en0104Best']])).language).toEqual({ preference: 'en', name: 'Best' });
  });
  it('template 62 and 64 rules', () => {
    const t: Array<[Array<[string, string]>, string]> = [
      [[['62', '0125' + 'A'.repeat(25)]], 'ok'],
      [[['62', '0126' + 'A'.repeat(26)]], 'INVALID_FIELD 62.01'],
      [[['62', '0826' + 'A'.repeat(26)]], 'INVALID_FIELD 62.08'],
      [[['62', '0902AE']], 'ok'],
      [[['62', '0903MEA']], 'ok'],
      [[['62', '0904AMEA']], 'INVALID_FIELD 62.09'],
      [[['62', '0901X']], 'INVALID_FIELD 62.09'],
      [[['62', '0903AMX']], 'INVALID_FIELD 62.09'],
      [[['62', '0903XAM']], 'INVALID_FIELD 62.09'],
      [[['62', '5030' + '0026' + 'G'.repeat(26)]], 'ok'],
      [[['62', '1030' + 'R'.repeat(30)]], 'ok'],
      [[['62', '1003abc']], 'ok'],
      [[['62', '5006' + '0002ID']], 'ok'],
      [[['62', '9906' + '0102ID']], 'MISSING_FIELD 62.99'],
      [[['64', '0102ZH']], 'MISSING_FIELD 64'],
      [[['64', '0003ZHO0101A']], 'INVALID_FIELD 64.00'],
      [[['64', '00021A0101A']], 'INVALID_FIELD 64.00'],
      [[['64', '0002ZH0125' + '名'.repeat(25)]], 'ok'],
      [[['64', '0002ZH0126' + '名'.repeat(26)]], 'INVALID_FIELD 64.01'],
      [[['64', '0002ZH0101A0215' + '京'.repeat(15)]], 'ok'],
      [[['64', '0002ZH0101A0216' + '京'.repeat(16)]], 'INVALID_FIELD 64.02'],
    ];
    for (const [extra, want] of t) expect([extra, parse({}, extra)]).toEqual([extra, want]);
  });
});

describe('payload structure', () => {
  it('refusals with their codes', () => {
    const base = edit({});
    const t: Array<[string, string]> = [
      ['', 'MALFORMED'],
      ['0002', 'CRC_MISSING 63'],
      ['ABCD' + base.slice(4), 'MALFORMED'],
      ['0102' + base.slice(4), 'MISPLACED_FIELD 00'],
      [base.slice(0, -4) + '0000', 'CRC_INVALID 63'],
      [base.slice(0, -8) + '6305' + base.slice(-4), 'CRC_MISSING 63'],
      [base.toLowerCase(), 'CRC_INVALID 63'],
      [base.slice(0, -4) + base.slice(-4).toLowerCase(), 'ok'],
      [withCrc(base.slice(0, -8) + '6200'), 'MALFORMED 62'],
      [withCrc(base.slice(0, -8) + '6203ABC'), 'MALFORMED'],
    ];
    for (const [payload, want] of t) expect([payload, outcomeOf(() => parseMerchantQr(payload))]).toEqual([payload, want]);
  });
  it('ID-length-value: lengths count characters, an ID at most once per template', () => {
    expect(parseQrObjects('0102AB0203名字x')).toEqual([{ id: '01', value: 'AB', at: 0 }, { id: '02', value: '名字x', at: 6 }]);
    expect(outcomeOf(() => parseQrObjects('01'))).toBe('MALFORMED');
    expect(outcomeOf(() => parseQrObjects('0103AB'))).toBe('MALFORMED 01');
    expect(outcomeOf(() => parseQrObjects('0100'))).toBe('MALFORMED 01');
    expect(outcomeOf(() => qrFields(parseQrObjects('0101A0101B'), 't'))).toBe('DUPLICATE_FIELD 01');
    expect(qrFields(parseQrObjects('0101A0201B'), 't')).toEqual({ '01': 'A', '02': 'B' });
    expect(encodeQrObject('05', '名字')).toBe('0502名字');
    expect(encodeQrObject('05', 'x'.repeat(99))).toBe('0599' + 'x'.repeat(99));
    expect(encodeQrObject('05', 'x'.repeat(9))).toBe('0509xxxxxxxxx');
    expect(outcomeOf(() => encodeQrObject('05', 'x'.repeat(100)))).toBe('TOO_LONG 05');
    expect(outcomeOf(() => encodeQrObject('05', ''))).toBe('INVALID_FIELD 05');
    expect(outcomeOf(() => encodeQrObject('5', 'x'))).toBe('INVALID_FIELD 5');
    expect(outcomeOf(() => encodeQrObject('5A', 'x'))).toBe('INVALID_FIELD 5A');
  });
});

describe('generator', () => {
  const q: MerchantQr = {
    pointOfInitiation: 'dynamic', accounts: { '15': unionPayAccount('48020000', '123456789012345') }, templates: [{ id: '26', gui: 'com.example', fields: { '02': 'b', '01': 'a' } }],
    merchantCategoryCode: '5812', currency: '156', amount: '10.00', tipIndicator: '02', convenienceFeeFixed: '0.50', countryCode: 'CN', merchantName: 'SHOP', merchantCity: 'SHANGHAI',
    postalCode: '200000', additionalData: { '07': 'T1', '01': 'B1' }, language: { preference: 'ZH', name: '店' }, other: { '80': '0002ID' },
  };
  it('writes the IDs in order, 00 first and 63 last, sub-IDs in order, and parses back', () => {
    const s = generateMerchantQr(q);
    expect(s.startsWith('000201' + '010212' + '1533' + 'A000000333' + '48020000' + '123456789012345' + '2625' + '0011com.example0101a0201b')).toBe(true);
    const ids = parseQrObjects(s).map((o) => o.id);
    expect(ids).toEqual(['00', '01', '15', '26', '52', '53', '54', '55', '56', '58', '59', '60', '61', '62', '64', '80', '63']);
    expect(parseQrObjects(s).find((o) => o.id === '26')!.value).toBe('0011com.example0101a0201b');
    expect(parseQrObjects(s).find((o) => o.id === '62')!.value).toBe('0102B10702T1');
    expect(parseQrObjects(s).find((o) => o.id === '64')!.value).toBe('0002ZH0101店');
    expect(s.slice(-8, -4)).toBe('6304');
    expect(s.slice(-4)).toBe(crcHex(s.slice(0, -4)));
    expect(parseMerchantQr(s)).toEqual(q);
  });
  it('a static code without amount; a dynamic code must name its amount', () => {
    const { amount: _a, ...noAmount } = q;
    expect(parseMerchantQr(generateMerchantQr({ ...noAmount, pointOfInitiation: 'static' })).amount).toBeUndefined();
    expect(outcomeOf(() => generateMerchantQr(noAmount))).toBe('INVALID_FIELD 54');
    expect(outcomeOf(() => generateMerchantQr({ ...noAmount, pointOfInitiation: undefined as never }))).toBe('ok');
  });
  it('the generator applies the same field rules', () => {
    const t: Array<[Partial<MerchantQr>, string]> = [
      [{ amount: '0' }, 'INVALID_FIELD 54'],
      [{ currency: 'CNY' }, 'INVALID_FIELD 53'],
      [{ accounts: {}, templates: [] }, 'INVALID_FIELD 02-51'],
      [{ accounts: { '26': 'x' } }, 'INVALID_FIELD 26'],
      [{ accounts: { '01': 'x' } }, 'INVALID_FIELD 01'],
      [{ templates: [{ id: '25', gui: 'x', fields: {} }] }, 'INVALID_FIELD 25'],
      [{ templates: [{ id: '52', gui: 'x', fields: {} }] }, 'INVALID_FIELD 52'],
      [{ templates: [{ id: '26', gui: '', fields: {} }] }, 'INVALID_FIELD 26'],
      [{ other: { '64': 'x' } }, 'INVALID_FIELD 64'],
      [{ other: { '65': 'x' } }, 'ok'],
      [{ other: { '79': 'x' } }, 'ok'],
      [{ other: { '80': 'x' } }, 'MALFORMED'],
      [{ additionalData: { '09': 'AA' } }, 'INVALID_FIELD 62.09'],
      [{ additionalData: {} }, 'ok'],
      [{ language: { preference: 'ZH', name: '' } }, 'INVALID_FIELD 64.01'],
      [{ language: { preference: 'ZH', name: 'A', city: '' } }, 'INVALID_FIELD 64.02'],
      [{ tipIndicator: '03' }, 'INVALID_FIELD 56'],
      [{ tipIndicator: undefined, convenienceFeeFixed: undefined, convenienceFeePercentage: '1' }, 'INVALID_FIELD 57'],
    ];
    for (const [change, want] of t) expect([change, outcomeOf(() => generateMerchantQr({ ...q, ...change }))]).toEqual([change, want]);
  });
});

describe('UnionPay merchant account (ID 15) and networks', () => {
  it('the layout: RID, acquirer IIN (8 digits), merchant ID (15 characters)', () => {
    expect(unionPayAccount('48020000', '12345678901234A')).toBe(`${UNIONPAY_RID}4802000012345678901234A`);
    expect(parseUnionPayAccount(`${UNIONPAY_RID}4802000012345678901234A`)).toEqual({ acquirerIin: '48020000', merchantId: '12345678901234A' });
  });
  const bad: Array<[string, string, string]> = [
    ['4802000', '123456789012345', 'a 7-digit IIN'],
    ['480200001', '123456789012345', 'a 9-digit IIN'],
    ['4802000A', '123456789012345', 'an IIN with a letter'],
    ['48020000', '12345678901234', 'a 14-character merchant ID'],
    ['48020000', '1234567890123456', 'a 16-character merchant ID'],
    ['48020000', '12345678901234-', 'a merchant ID with a dash'],
  ];
  for (const [iin, mid, what] of bad) {
    it(`refuses ${what}`, () => {
      expect(outcomeOf(() => unionPayAccount(iin, mid))).toBe('INVALID_FIELD 15');
      expect(outcomeOf(() => parseUnionPayAccount(UNIONPAY_RID + iin + mid))).toBe('INVALID_FIELD 15');
    });
  }
  it('refuses another RID or trailing characters', () => {
    expect(outcomeOf(() => parseUnionPayAccount('A000000004' + '48020000' + '123456789012345'))).toBe('INVALID_FIELD 15');
    expect(outcomeOf(() => parseUnionPayAccount(`${UNIONPAY_RID}48020000123456789012345x`))).toBe('INVALID_FIELD 15');
    expect(outcomeOf(() => parseUnionPayAccount(`x${UNIONPAY_RID}48020000123456789012345`))).toBe('INVALID_FIELD 15');
  });
  it('reserved account IDs name their network', () => {
    expect(['02', '03', '04', '05', '09', '10', '11', '12', '13', '14', '15', '16', '06', '17', '26'].map(networkOf))
      .toEqual(['Visa', 'Visa', 'Mastercard', 'Mastercard', 'Discover', 'Discover', 'Amex', 'Amex', 'JCB', 'JCB', 'UnionPay', 'UnionPay', undefined, undefined, undefined]);
  });
});
