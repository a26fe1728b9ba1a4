import { describe, expect, it } from 'vitest';
import { crc16CcittFalse, crcHex } from '../../common/qr/crc16.ts';
import { encodeQrObject } from '../../common/qr/tlv-qr.ts';
import { generateMerchantQr, parseMerchantQr, parseUnionPayAccount, unionPayAccount, type MerchantQr } from '../../common/qr/merchant-presented.ts';
import { QrError } from '../../common/qr/errors.ts';

// The example payload of the EMV QRCPS Merchant-Presented Mode specification v1.0, Annex B.7
// (with Chinese alternate-language fields; CRC A13A), and the hexadecimal representation of its
// UTF-8 bytes printed beside it there.
const SPEC_EXAMPLE = '00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A';
const SPEC_EXAMPLE_HEX = '303030323031303130323132323933303030313244313536303030303030303030353130413933464F33323330513331'
  + '323830303132443135363030303030303031303330383132333435363738353230343431313135383032434E35393134'
  + '42455354205452414E53504F5254363030374245494A494E4736343230303030325A4830313034E69C80E4BDB3E8BF90'
  + 'E8BE9330323032E58C97E4BAAC3534303532332E37323533303331353635353032303136323333303330343132333430'
  + '3630332A2A2A303730384136303038363637303930324D45393133323030313641303131323233333434393938383737'
  + '3037303831323334353637383633303441313341';

const code = (e: unknown) => (e instanceof QrError ? e.code : String(e));
const errorCode = (fn: () => unknown) => { try { fn(); return 'none'; } catch (e) { return code(e); } };

describe('CRC-16/CCITT-FALSE', () => {
  it('has the catalogue check value', () => {
    expect(crc16CcittFalse(new TextEncoder().encode('123456789'))).toBe(0x29b1);
    expect(crcHex('')).toBe('FFFF');
  });
});

describe('merchant-presented QR', () => {
  it('parses the specification example', () => {
    expect(Buffer.from(SPEC_EXAMPLE, 'utf8').toString('hex').toUpperCase()).toBe(SPEC_EXAMPLE_HEX);
    const q = parseMerchantQr(SPEC_EXAMPLE);
    expect(q.pointOfInitiation).toBe('dynamic');
    expect(q.templates.map((t) => [t.id, t.gui, t.fields])).toEqual([
      ['29', 'D15600000000', { '05': 'A93FO3230Q' }],
      ['31', 'D15600000001', { '03': '12345678' }],
    ]);
    expect([q.merchantCategoryCode, q.currency, q.amount, q.tipIndicator, q.countryCode, q.merchantName, q.merchantCity])
      .toEqual(['4111', '156', '23.72', '01', 'CN', 'BEST TRANSPORT', 'BEIJING']);
    expect(q.language).toEqual({ preference: 'ZH', name: '最佳运输', city: '北京' });
    expect(q.additionalData).toEqual({ '03': '1234', '06': '***', '07': 'A6008667', '09': 'ME' });
    expect(q.other).toEqual({ '91': '0016A011223344998877070812345678' });
  });

  it('generates what it parses (static UnionPay code and dynamic with amount)', () => {
    const base: MerchantQr = {
      pointOfInitiation: 'static', accounts: { '15': unionPayAccount('48020000', '123456789012345') }, templates: [],
      merchantCategoryCode: '5812', currency: '156', countryCode: 'CN', merchantName: 'TRUSTTAP CAFE', merchantCity: 'SHANGHAI',
      additionalData: { '07': 'T0001' },
    };
    const s = generateMerchantQr(base);
    expect(s.startsWith('00020101021115')).toBe(true);
    expect(parseMerchantQr(s)).toEqual(base);
    expect(parseUnionPayAccount(parseMerchantQr(s).accounts['15']!)).toEqual({ acquirerIin: '48020000', merchantId: '123456789012345' });
    const dyn: MerchantQr = { ...base, pointOfInitiation: 'dynamic', amount: '88.00', templates: [{ id: '26', gui: 'A000000333', fields: { '01': 'X' } }] };
    expect(parseMerchantQr(generateMerchantQr(dyn))).toEqual(dyn);
  });

  it('gives typed errors', () => {
    const bad = SPEC_EXAMPLE.slice(0, -4) + 'A13B';
    expect(errorCode(() => parseMerchantQr(bad))).toBe('CRC_INVALID');
    expect(errorCode(() => parseMerchantQr(SPEC_EXAMPLE.slice(0, -8)))).toBe('CRC_MISSING');
    expect(errorCode(() => parseMerchantQr('hello'))).toBe('MALFORMED');
    // A length running past the end, with a valid CRC.
    const truncated = '0002010102115299' + '6304';
    expect(errorCode(() => parseMerchantQr(truncated + crcHex(truncated)))).toBe('MALFORMED');
    const noCity = '000201010211150520000520458125303156580' + '2CN5904SHOP' + '6304';
    expect(errorCode(() => parseMerchantQr(noCity + crcHex(noCity)))).toBe('MISSING_FIELD');
    expect(errorCode(() => generateMerchantQr({ pointOfInitiation: 'dynamic', accounts: { '15': 'x' }, templates: [], merchantCategoryCode: '5812', currency: '156', countryCode: 'CN', merchantName: 'A', merchantCity: 'B' }))).toBe('INVALID_FIELD');
    expect(errorCode(() => generateMerchantQr({ pointOfInitiation: 'static', accounts: {}, templates: [], merchantCategoryCode: '5812', currency: '156', countryCode: 'CN', merchantName: 'A', merchantCity: 'B' }))).toBe('INVALID_FIELD');
    expect(errorCode(() => parseUnionPayAccount('A0000003331234'))).toBe('INVALID_FIELD');
  });
});

describe('merchant-presented QR: the specification\'s rules (MPM §4)', () => {
  const withCrc = (body: string) => body + '6304' + crcHex(body + '6304');
  const ROOT: Array<[string, string]> = [['00', '01'], ['01', '12'], ['15', 'A0000003334802000012345678901234'], ['52', '5812'], ['53', '156'], ['54', '23.72'], ['58', 'CN'], ['59', 'BEST TRANSPORT'], ['60', 'BEIJING']];
  const mpm = (objs: Array<[string, string]>) => withCrc(objs.map(([id, v]) => encodeQrObject(id, v)).join(''));
  const edit = (changes: Record<string, string | null>, extra: Array<[string, string]> = []) =>
    mpm([...ROOT.filter(([id]) => changes[id] !== null).map(([id, v]): [string, string] => [id, changes[id] ?? v]), ...extra]);
  const fieldError = (fn: () => unknown) => { try { fn(); return 'none'; } catch (e) { return e instanceof QrError ? `${e.code} ${e.field}` : String(e); } };

  it('the base payload parses; point of initiation (01) is optional (§4.7.2); "98." is an amount (§4.7.4)', () => {
    expect(parseMerchantQr(edit({})).accounts).toEqual({ '15': 'A0000003334802000012345678901234' });
    expect(parseMerchantQr(edit({ '01': null })).pointOfInitiation).toBeUndefined();
    expect(parseMerchantQr(edit({ '54': '98.' })).amount).toBe('98.');
  });

  it('ID 00 first, ID 63 last and once, lengths 01..99, each ID once (§4.3, §4.4, §4.6)', () => {
    expect(fieldError(() => parseMerchantQr(withCrc(edit({}).slice(6, -8).concat('000201'))))).toBe('MISPLACED_FIELD 00');
    expect(fieldError(() => parseMerchantQr(edit({ '00': '02' })))).toBe('INVALID_FIELD 00');
    expect(fieldError(() => parseMerchantQr(withCrc('000201' + '63041234' + edit({}).slice(6, -8))))).toBe('MISPLACED_FIELD 63');
    // "6304" and a right CRC as the tail of another object's value is not a CRC object.
    const body = edit({}).slice(0, -8) + '9910AB6304';
    expect(fieldError(() => parseMerchantQr(body + crcHex(body)))).toBe('CRC_MISSING 63');
    expect(fieldError(() => parseMerchantQr(withCrc(edit({}).slice(0, -8) + '6100')))).toBe('MALFORMED 61');
    expect(fieldError(() => parseMerchantQr(edit({}, [['59', 'AGAIN']])))).toBe('DUPLICATE_FIELD 59');
    expect(fieldError(() => parseMerchantQr(edit({}, [['62', '0501A0501B']])))).toBe('DUPLICATE_FIELD 05');
  });

  it('formats and conditions of Table 3.6 and §4.7–4.11', () => {
    const cases: Array<[Record<string, string | null>, Array<[string, string]>, string]> = [
      [{ '01': '13' }, [], 'INVALID_FIELD 01'],
      [{ '52': '581' }, [], 'INVALID_FIELD 52'],
      [{ '54': '0.00' }, [], 'INVALID_FIELD 54'],
      [{ '54': '98,73' }, [], 'INVALID_FIELD 54'],
      [{}, [['55', '04']], 'INVALID_FIELD 55'],
      [{}, [['55', '02']], 'INVALID_FIELD 56'],
      [{}, [['55', '01'], ['56', '1.00']], 'INVALID_FIELD 56'],
      [{}, [['55', '03'], ['57', '100']], 'INVALID_FIELD 57'],
      [{}, [['55', '03'], ['57', '3%']], 'INVALID_FIELD 57'],
      [{ '59': 'A'.repeat(26) }, [], 'INVALID_FIELD 59'],
      [{ '15': '银联' }, [], 'INVALID_FIELD 15'],
      [{ '15': null }, [], 'MISSING_FIELD 02-51'],
      [{}, [['26', '0104ABCD']], 'MISSING_FIELD 26'],
      [{}, [['62', '0902MM']], 'INVALID_FIELD 62.09'],
      [{}, [['62', '5008' + '0104ABCD']], 'MISSING_FIELD 62.50'],
      [{}, [['91', '0104ABCD']], 'MISSING_FIELD 91'],
      [{}, [['64', '0002ZH']], 'MISSING_FIELD 64'],
    ];
    for (const [changes, extra, want] of cases) expect([changes, extra, fieldError(() => parseMerchantQr(edit(changes, extra)))]).toEqual([changes, extra, want]);
    const ok = parseMerchantQr(edit({}, [['55', '03'], ['57', '3.00'], ['62', '0903AME'], ['91', '0005com.x0103abc']]));
    expect([ok.convenienceFeePercentage, ok.additionalData, ok.other]).toEqual(['3.00', { '09': 'AME' }, { '91': '0005com.x0103abc' }]);
  });
});

// Consumer-presented codes: test/emv/qr-cpm.test.ts.
