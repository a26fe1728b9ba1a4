import { describe, expect, it } from 'vitest';
import { crc16CcittFalse, crcHex } from '../../common/qr/crc16.ts';
import { generateMerchantQr, parseMerchantQr, parseUnionPayAccount, unionPayAccount, type MerchantQr } from '../../common/qr/merchant-presented.ts';
import { QrError } from '../../common/qr/errors.ts';

// The example payload of the EMV QRCPS Merchant-Presented Mode specification (with Chinese
// alternate-language fields), as reproduced by QR libraries; its CRC is A13A.
const SPEC_EXAMPLE = '00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A';

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

// Consumer-presented codes: test/emv/qr-cpm.test.ts.
