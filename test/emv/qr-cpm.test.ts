// EMV QRCPS Consumer-Presented Mode v1.0 (EMVCo, July 2017) through common/qr: the
// specification's own examples, a UnionPay code from a public library's tests, and every rule
// of the template structure (Table 3.1, §5.1) as a typed error.
import { describe, expect, it } from 'vitest';
import { CPM_PREFIX, parseConsumerQr, selectApplication } from '../../common/qr/consumer-presented.ts';
import { QrError } from '../../common/qr/errors.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { toBase64 } from '../../common/base64.ts';

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const b64 = (e: TlvEntry[]) => toBase64(encodeTlv(e));
const PFI: TlvEntry = ['85', hex('CPV01')];
const errorOf = (fn: () => unknown): { code: string; field?: string } => {
  try { fn(); } catch (e) { if (e instanceof QrError) return { code: e.code, field: e.field }; throw e; }
  return { code: 'none' };
};

// Annex B.1 and B.2 of the specification: the binary data (hex bytes as printed there) and the
// Base64 text printed under it. The same B.2 text is the expected output of the CPM tests of
// public libraries (github.com/mvallim/emv-qrcode ConsumerPresentedModeTest.java,
// github.com/dongri/emv-qrcode README), which is how it was checked that the PDF copy was read right.
const B1_HEX = '85054350563031' + '611A' + '4F07A0000000555555' + '570F1234567890123458D191220112345F';
const B1 = 'hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8=';
const B2_HEX = '85054350563031'
  + '6113' + '4F07A0000000555555' + '50085072' + '6F6475637431'
  + '6113' + '4F07A0000000666666' + '50085072' + '6F6475637432'
  + '6249' + '5A081234567890123458' + '5F200E43415244484F4C4445522F454D56' + '5F2D08727565736465656E'
  + '6421' + '9F100706010A03000000' + '9F2608584FD385FA234BCC' + '9F36020001' + '9F37046D58EF13';
const B2 = 'hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9k'
  + 'dWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwY'
  + 'BCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==';
// A UnionPay code (AID A000000333010102, track 2, cryptogram data in 63) from the decoder tests of
// github.com/mvallim/emv-qrcode (src/test/java/com/emv/qrcode/decoder/cpm/ConsumerPresentedModeDecoderTest.java,
// testSuccessDecodeUnionPay).
const UNIONPAY = 'hQVDUFYwMWFWTwigAAADMwEBAlcRYmNgAQBxNnLSMSIBAAABiAFfNAEAYzOfJghWite85mtxi58nAYCfEBEHAAEDoAAAAQgwMDAwMDAwMZ82AhEiggIAAJ83BCJgSI4=';

describe('the specification\'s examples', () => {
  it('the Base64 texts are the printed binary data', () => {
    expect(Buffer.from(B1, 'base64').toString('hex').toUpperCase()).toBe(B1_HEX);
    expect(Buffer.from(B2, 'base64').toString('hex').toUpperCase()).toBe(B2_HEX);
    expect(B1.startsWith(CPM_PREFIX) && B2.startsWith(CPM_PREFIX)).toBe(true);
  });

  it('B.1: one application template with ADF Name and track 2', () => {
    const r = parseConsumerQr(B1);
    expect(r.payloadFormat).toBe('CPV01');
    expect(r.commonData).toBe(false);
    expect(r.applications).toEqual([{ aid: 'A0000000555555', expiry: '1912', maskedPan: '123456******3458', poiData: { '4F': 'A0000000555555' }, transparentData: {}, transparent: {} }]);
    expect(r.sensitive).toEqual([{ track2: '1234567890123458D191220112345F', pan: '1234567890123458' }]);
  });

  it('B.2: two application templates with only AID and label; PAN, name, language and cryptogram data in the common data template apply to both', () => {
    const r = parseConsumerQr(B2);
    expect(r.commonData).toBe(true);
    const transparentData = { '9F10': '06010A03000000', '9F26': '584FD385FA234BCC', '9F36': '0001', '9F37': '6D58EF13' };
    const common = '9F100706010A03000000' + '9F2608584FD385FA234BCC' + '9F36020001' + '9F37046D58EF13';
    expect(r.applications).toEqual(['555555', '666666'].map((x, i) => ({
      aid: `A0000000${x}`, label: `Product${i + 1}`, maskedPan: '123456******3458',
      poiData: { '4F': `A0000000${x}`, '50': hex(`Product${i + 1}`).toUpperCase(), '5F2D': hex('ruesdeen').toUpperCase() },
      transparentData, transparent: { common },
    })));
    expect(r.sensitive).toEqual([0, 1].map(() => ({ pan: '1234567890123458', cardholderName: 'CARDHOLDER/EMV' })));
    // Nothing but `sensitive` carries the PAN or the name.
    const { sensitive: _, ...shown } = r;
    expect(JSON.stringify(shown)).not.toMatch(/1234567890123458|CARDHOLDER|43415244484F4C444552/i);
  });

  it('a UnionPay code: track 2, PAN sequence number, cryptogram data in 63', () => {
    const r = parseConsumerQr(UNIONPAY);
    expect(r.applications[0]).toMatchObject({ aid: 'A000000333010102', expiry: '2312', maskedPan: '626360******3672', poiData: { '4F': 'A000000333010102', '5F34': '00' } });
    expect(r.applications[0]!.transparentData).toMatchObject({ '9F26': '568AD7BCE66B718B', '9F27': '80', '9F36': '1122', '9F37': '2260488E' });
    expect(r.applications[0]!.transparent.application).toMatch(/^9F2608568AD7BCE66B718B/);
    expect(r.sensitive[0]!.pan).toBe('6263600100713672');
  });
});

describe('the template rules', () => {
  const app = (...more: TlvEntry[]): TlvEntry => ['61', [['4F', 'A000000333010101'], ...more]];
  const PAN: TlvEntry = ['5A', '6228480000000000017F'];

  it('transparent data: 63 and 64 both reach the application, 63 taking precedence for a tag in both', () => {
    const r = parseConsumerQr(b64([PFI, app(['63', [['9F26', '1111111111111111'], ['9F27', '80']]]), ['62', [PAN, ['64', [['9F26', '2222222222222222'], ['9F36', '0007']]]]]]));
    expect(r.applications[0]!.transparentData).toEqual({ '9F26': '1111111111111111', '9F27': '80', '9F36': '0007' });
    expect(r.applications[0]!.transparent).toEqual({ application: '9F260811111111111111119F270180', common: '9F260822222222222222229F36020007' });
    expect(r.applications[0]!.maskedPan).toBe('622848*********0017');
  });

  it('POI data in both 61 and 62, or twice in one, is refused (§3.1.1, §5.1.10)', () => {
    expect(errorOf(() => parseConsumerQr(b64([PFI, app(PAN), ['62', [PAN]]])))).toEqual({ code: 'DUPLICATE_FIELD', field: '5A' });
    expect(errorOf(() => parseConsumerQr(b64([PFI, app(PAN, ['50', hex('A')], ['50', hex('B')])])))).toEqual({ code: 'DUPLICATE_FIELD', field: '50' });
    // Within transparent data a repeat is allowed (the rule is for POI data only).
    expect(errorOf(() => parseConsumerQr(b64([PFI, app(PAN, ['63', [['9F26', '11'], ['9F26', '22']]])])))).toEqual({ code: 'none' });
  });

  it('what may appear where', () => {
    const cases: Array<[TlvEntry[], string, string]> = [
      [[PFI, app(PAN, ['64', [['9F26', '11']]])], 'MISPLACED_FIELD', '64'],
      [[PFI, app(), ['62', [PAN, ['63', [['9F26', '11']]]]]], 'MISPLACED_FIELD', '63'],
      [[PFI, app(PAN), ['63', [['9F26', '11']]]], 'MISPLACED_FIELD', '63'],
      [[PFI, app(PAN, app(PAN))], 'MISPLACED_FIELD', '61'],
      [[PFI, app(PAN), ['9F26', '11']], 'MISPLACED_FIELD', '9F26'],
      [[PFI, ['70', [['9F26', '11']]], app(PAN)], 'MISPLACED_FIELD', '61'],
      [[PFI, app(PAN), app(PAN), app(PAN)], 'MALFORMED', '61'],
      [[PFI, app(), ['62', [PAN]], ['62', [['5F2D', hex('en')]]]], 'DUPLICATE_FIELD', '62'],
      [[PFI, app(PAN, ['63', [['9F26', '11']]], ['63', [['9F27', '80']]])], 'DUPLICATE_FIELD', '63'],
      [[PFI, app(PAN), PFI], 'DUPLICATE_FIELD', '85'],
      [[PFI, ['62', [PAN]]], 'MISSING_FIELD', '61'],
      [[PFI, app()], 'MISSING_FIELD', '5A'],
    ];
    for (const [entries, code, field] of cases) expect([JSON.stringify(entries), errorOf(() => parseConsumerQr(b64(entries)))]).toEqual([JSON.stringify(entries), { code, field }]);
  });

  it('other templates after 61/62 are kept, not interpreted; 00 padding between objects is allowed (EMV Book 3 Annex B)', () => {
    const data = Buffer.concat([encodeTlv([PFI, app(PAN)]), Buffer.from([0, 0]), encodeTlv([['70', [['DF01', 'AB']]]])]);
    const r = parseConsumerQr(data.toString('base64'));
    expect(r.otherTemplates).toEqual([{ tag: '70', value: 'DF0101AB' }]);
  });

  it('payload format indicator, Base64 and BER-TLV (§5.1.1–5.1.3)', () => {
    expect(errorOf(() => parseConsumerQr('not base64!')).code).toBe('BASE64_INVALID');
    expect(errorOf(() => parseConsumerQr('hQVDUFYwMW')).code).toBe('BASE64_INVALID');
    expect(errorOf(() => parseConsumerQr(b64([['4F', 'A000000333'], PFI])))).toEqual({ code: 'MALFORMED', field: '85' });
    expect(errorOf(() => parseConsumerQr(b64([['85', hex('CPV02')], app(PAN)])))).toEqual({ code: 'VERSION_UNSUPPORTED', field: '85' });
    expect(errorOf(() => parseConsumerQr(b64([['85', hex('CPV0A')], app(PAN)])))).toEqual({ code: 'INVALID_FIELD', field: '85' });
    expect(errorOf(() => parseConsumerQr(Buffer.from(B2, 'base64').subarray(0, 40).toString('base64'))).code).toBe('MALFORMED');
  });

  it('formats of Table 6.1 / Annex A', () => {
    const cases: Array<[TlvEntry, string]> = [
      [['50', hex('Pay!')], '50'],
      [['50', hex('A label of 17 chr')], '50'],
      [['5F2D', hex('eng')], '5F2D'],
      [['5F50', hex('http://x')], '5F50'],
      [['9F24', hex('ABC')], '9F24'],
      [['9F25', 'AB12'], '9F25'],
      [['9F08', '01'], '9F08'],
      [['5F20', hex('A')], '5F20'],
    ];
    for (const [e, field] of cases) expect(errorOf(() => parseConsumerQr(b64([PFI, app(PAN, e)])))).toEqual({ code: 'INVALID_FIELD', field });
    expect(errorOf(() => parseConsumerQr(b64([PFI, app(['5A', '62284800000A0017'])])))).toEqual({ code: 'INVALID_FIELD', field: '5A' });
    expect(errorOf(() => parseConsumerQr(b64([PFI, app(['57', '6228480000000000017D3012'])])))).toEqual({ code: 'INVALID_FIELD', field: '57' });
    // PAN and track 2 must name the same account.
    expect(errorOf(() => parseConsumerQr(b64([PFI, app(['57', '6228480000000000025D30122010000000000F'], PAN)])))).toEqual({ code: 'INVALID_FIELD', field: '5A' });
    expect(parseConsumerQr(b64([PFI, app(['5F50', hex('mailto:example@emvco.com')], ['9F25', '0017'], PAN)])).applications[0]!.poiData['9F25']).toBe('0017');
  });
});

describe('choosing the application template (§5.1.4–5.1.6)', () => {
  it('a template without a usable ADF Name is skipped, not an error; none usable is', () => {
    const r = parseConsumerQr(b64([PFI, ['61', [['50', hex('NoAid')]]], ['61', [['4F', 'A000000333']]], ['62', [['5A', '6228480000000000017F']]]]));
    expect(r.applications.map((a) => a.ineligible ?? 'eligible')).toEqual(['no ADF Name (4F) in the template', 'eligible']);
    // An ADF Name in the common data template does not make a template eligible.
    expect(errorOf(() => parseConsumerQr(b64([PFI, ['61', [['50', hex('NoAid')]]], ['62', [['4F', 'A000000333'], ['5A', '6228480000000000017F']]]])))).toEqual({ code: 'MISSING_FIELD', field: '4F' });
    expect(selectApplication(r, ['A000000333'])).toBe(1);
    expect(errorOf(() => parseConsumerQr(b64([PFI, ['61', [['4F', 'A0000003'], ['5A', '6228480000000000017F']]]])))).toEqual({ code: 'MISSING_FIELD', field: '4F' });
  });

  it('matches an AID equal to the ADF Name or its leftmost bytes, in the merchant\'s order of preference', () => {
    const r = parseConsumerQr(B2);
    expect(selectApplication(r, ['A0000000555555', 'A0000000666666'])).toBe(0);
    expect(selectApplication(r, ['A0000000666666', 'A0000000555555'])).toBe(1);
    expect(selectApplication(r, ['A000000066'])).toBe(1);
    expect(selectApplication(r, ['a000000055'])).toBe(0);
    // An AID longer than the ADF Name does not match it.
    expect(errorOf(() => selectApplication(r, ['A000000055555501', 'A000000333']))).toEqual({ code: 'NOT_ELIGIBLE', field: '4F' });
  });
});
