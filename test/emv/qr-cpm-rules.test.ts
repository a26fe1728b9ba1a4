// Consumer-presented QR decisions (common/qr/consumer-presented.ts) one row at a time: each
// Annex A format at and one past its bounds and with a character it refuses at either end,
// where a template may stand, the ADF Name lengths §5.1.4 accepts, and the application choice.
import { describe, expect, it } from 'vitest';
import { parseConsumerQr, selectApplication } from '../../common/qr/consumer-presented.ts';
import { QrError } from '../../common/qr/errors.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { toBase64 } from '../../common/base64.ts';

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const b64 = (e: TlvEntry[]) => toBase64(encodeTlv(e));
const PFI: TlvEntry = ['85', hex('CPV01')];
const PAN: TlvEntry = ['5A', '6228480000000000017F'];
const app = (...more: TlvEntry[]): TlvEntry => ['61', [['4F', 'A000000333010101'], ...more]];
const result = (fn: () => unknown) => { try { fn(); return 'ok'; } catch (e) { if (e instanceof QrError) return `${e.code} ${e.field ?? ''}`.trim(); throw e; } };
const parse = (...entries: TlvEntry[]) => result(() => parseConsumerQr(b64([PFI, ...entries])));

describe('Annex A formats of the POI data objects', () => {
  const table: Array<[string, TlvEntry, string]> = [
    ['label of 16 characters', ['50', hex('A label of 16 ch')], 'ok'],
    ['label of 1 character', ['50', hex('A')], 'ok'],
    ['label starting with a refused character', ['50', hex('!Label')], 'INVALID_FIELD 50'],
    ['cardholder name of 26 characters', ['5F20', hex('N'.repeat(26))], 'ok'],
    ['cardholder name of 27 characters', ['5F20', hex('N'.repeat(27))], 'INVALID_FIELD 5F20'],
    ['cardholder name of 2 characters', ['5F20', hex('NM')], 'ok'],
    ['cardholder name ending outside the character set', ['5F20', hex('NAME') + '01'], 'INVALID_FIELD 5F20'],
    ['cardholder name starting outside the character set', ['5F20', '01' + hex('NAME')], 'INVALID_FIELD 5F20'],
    ['language preference of four codes', ['5F2D', hex('enzhfrde')], 'ok'],
    ['language preference of 10 letters', ['5F2D', hex('enzhfrdeit')], 'INVALID_FIELD 5F2D'],
    ['language preference starting with a digit', ['5F2D', hex('1e')], 'INVALID_FIELD 5F2D'],
    ['language preference ending with a digit', ['5F2D', hex('e1')], 'INVALID_FIELD 5F2D'],
    ['issuer URL tel:', ['5F50', hex('tel:+861234')], 'ok'],
    ['issuer URL with tel: inside', ['5F50', hex('xtel:+861234')], 'INVALID_FIELD 5F50'],
    ['issuer URL with a character outside the set', ['5F50', hex('tel:1') + '01'], 'INVALID_FIELD 5F50'],
    ['token requestor ID of 6 numeric bytes', ['9F19', '123456789012'], 'ok'],
    ['token requestor ID of 5 bytes', ['9F19', '1234567890'], 'INVALID_FIELD 9F19'],
    ['token requestor ID with a letter', ['9F19', '12345678901A'], 'INVALID_FIELD 9F19'],
    ['token requestor ID starting with a letter', ['9F19', 'A23456789012'], 'INVALID_FIELD 9F19'],
    ['payment account reference of 29', ['9F24', hex('A'.repeat(28) + '1')], 'ok'],
    ['payment account reference of 30', ['9F24', hex('A'.repeat(30))], 'INVALID_FIELD 9F24'],
    ['payment account reference in lower case', ['9F24', hex('a'.repeat(29))], 'INVALID_FIELD 9F24'],
    ['payment account reference ending lower case', ['9F24', hex('A'.repeat(28) + 'a')], 'INVALID_FIELD 9F24'],
    ['last 4 digits', ['9F25', '0017'], 'ok'],
    ['last 4 digits ending with a letter', ['9F25', '001A'], 'INVALID_FIELD 9F25'],
    ['application version of 2 bytes', ['9F08', '0002'], 'ok'],
    ['application version of 3 bytes', ['9F08', '000200'], 'INVALID_FIELD 9F08'],
    ['an unknown data object: kept as it is', ['9F7C', '00'], 'ok'],
  ];
  for (const [what, e, want] of table) it(`${what} → ${want}`, () => expect(parse(app(PAN, e))).toBe(want));
  it('common data is checked too', () => expect(parse(app(), ['62', [PAN, ['5F20', hex('N')]]])).toBe('INVALID_FIELD 5F20'));
});

describe('PAN and track 2', () => {
  const table: Array<[string, TlvEntry[], string]> = [
    ['PAN of 12 digits', [['5A', '622848000001']], 'ok'],
    ['PAN of 11 digits', [['5A', '62284800001F']], 'INVALID_FIELD 5A'],
    ['PAN of 19 digits', [['5A', '6228480000000000017F']], 'ok'],
    ['PAN of 20 digits', [['5A', '62284800000000000171']], 'INVALID_FIELD 5A'],
    ['PAN of 11 bytes', [['5A', '6228480000000000017FFF']], 'INVALID_FIELD 5A'],
    ['PAN starting with a letter', [['5A', 'A228480000000000017F']], 'INVALID_FIELD 5A'],
    ['PAN padded, then a letter', [['5A', '622848000000000017FA']], 'INVALID_FIELD 5A'],
    ['track 2 of 19 bytes', [['57', '6228480000000000017D301220100000000000']], 'ok'],
    ['track 2 of 20 bytes', [['57', '6228480000000000017D30122010000000000000']], 'INVALID_FIELD 57'],
    ['track 2 and PAN of the same account', [['57', '6228480000000000017D30122010000000000F'], PAN], 'ok'],
  ];
  for (const [what, e, want] of table) it(`${what} → ${want}`, () => expect(parse(app(...e))).toBe(want));
  it('the PAN without its F padding, masked', () => {
    const r = parseConsumerQr(b64([PFI, app(['5A', '622848000000000017FF'])]));
    expect([r.sensitive[0]!.pan, r.applications[0]!.maskedPan]).toEqual(['622848000000000017', '622848********0017']);
  });
  it('the error names the template it is in', () => {
    expect(() => parseConsumerQr(b64([PFI, app(PAN), app(PAN, ['50', hex('A')], ['50', hex('B')])]))).toThrow(/application template 2/);
    expect(() => parseConsumerQr(b64([PFI, app(['57', '6228480000000000017D3012'])]))).toThrow(/application template 1/);
  });
});

describe('where templates may stand', () => {
  const table: Array<[string, TlvEntry[], string]> = [
    ['64 at the top level', [app(PAN), ['64', [['9F26', '11']]]], 'MISPLACED_FIELD 64'],
    ['85 inside 61', [app(PAN, PFI)], 'MISPLACED_FIELD 85'],
    ['62 inside 61', [app(PAN, ['62', [['9F26', '11']]])], 'MISPLACED_FIELD 62'],
    ['61 inside 62', [app(PAN), ['62', [app()]]], 'MISPLACED_FIELD 61'],
    ['64 twice in 62', [app(PAN), ['62', [['64', [['9F26', '11']]], ['64', [['9F27', '80']]]]]], 'DUPLICATE_FIELD 64'],
    ['62 before 61', [['62', [PAN]], app()], 'ok'],
    ['two 61 and a 62', [app(), app(), ['62', [PAN]]], 'ok'],
    ['a 62 after another template', [app(PAN), ['70', [['9F26', '11']]], ['62', [['5F2D', hex('en')]]]], 'MISPLACED_FIELD 62'],
  ];
  for (const [what, e, want] of table) it(`${what} → ${want}`, () => expect(parse(...e)).toBe(want));
  it('a code whose first object is not "CPV.." is not a consumer-presented code', () => {
    expect(result(() => parseConsumerQr(b64([['85', hex('XPV01')], app(PAN)])))).toBe('MALFORMED 85');
  });
  it('Base64 must be Base64 from the first character to the last', () => {
    const good = b64([PFI, app(PAN)]);
    expect(result(() => parseConsumerQr(good + '!!!!'))).toBe('BASE64_INVALID');
    expect(result(() => parseConsumerQr('!!!!' + good))).toBe('BASE64_INVALID');
  });
});

describe('ADF Name (§5.1.4) and the application choice (§5.1.5–5.1.6)', () => {
  const withAid = (aid: string, ...more: TlvEntry[]): TlvEntry => ['61', [['4F', aid], ...more]];
  const table: Array<[string, string, string | undefined]> = [
    ['5 bytes', 'A000000333', undefined],
    ['4 bytes', 'A0000003', 'ADF Name (4F) of 4 bytes (5..16)'],
    ['16 bytes', 'A0000003330101010101010101010101', undefined],
    ['17 bytes', 'A000000333010101010101010101010101', 'ADF Name (4F) of 17 bytes (5..16)'],
  ];
  for (const [what, aid, ineligible] of table) {
    it(`an ADF Name of ${what}`, () => {
      const r = parseConsumerQr(b64([PFI, withAid(aid, PAN), app(PAN)]));
      expect(r.applications[0]!.ineligible).toBe(ineligible);
      expect(r.applications[0]!.aid).toBe(aid);
    });
  }
  it('an ineligible template without any PAN is kept without a masked PAN', () => {
    const r = parseConsumerQr(b64([PFI, ['61', [['50', hex('NoAid')]]], app(PAN)]));
    expect(r.applications[0]).toEqual({ ineligible: 'no ADF Name (4F) in the template', label: 'NoAid', poiData: { '50': hex('NoAid').toUpperCase() }, transparentData: {}, transparent: {} });
  });
  it('an ineligible template is never chosen, even when its ADF Name matches', () => {
    const r = parseConsumerQr(b64([PFI, withAid('A0000003', PAN), app(PAN)]));
    expect(selectApplication(r, ['A0000003'])).toBe(1);
  });
  it('two templates of the same rank: the earlier one', () => {
    const r = parseConsumerQr(b64([PFI, app(PAN), withAid('A000000333010102', PAN)]));
    expect(selectApplication(r, ['A000000333'])).toBe(0);
    expect(selectApplication(r, ['A000000333010102', 'A000000333'])).toBe(1);
  });
  it('the refusal lists the templates\' ADF Names', () => {
    const r = parseConsumerQr(b64([PFI, ['61', [['50', hex('NoAid')]]], app(PAN)]));
    expect(() => selectApplication(r, ['A000000004'])).toThrow(/none, A000000333010101/);
  });
});
