// BER-TLV decisions (common/tlv.ts, EMV Book 3 Annex B) one row at a time: every length form at
// its bounds, the tag forms the encoder accepts, nesting exactly at the limit, salvage mode, and
// the tag and offset each typed error carries.
import { describe, expect, it } from 'vitest';
import { decodeTlv, encodeLength, encodeTlv, findTag, flatten, isConstructed, toTree, treeToEntries, TlvError } from '../../common/tlv.ts';
import { fromHex, toHex } from '../../common/hex.ts';

const err = (fn: () => unknown) => { try { fn(); return 'ok'; } catch (e) { if (e instanceof TlvError) return `${e.code} ${e.tag || '-'}@${e.offset}`; throw e; } };
const dec = (h: string, o = {}) => err(() => decodeTlv(fromHex(h), o));

describe('decoding: lengths', () => {
  const table: Array<[string, string, string]> = [
    ['short form 7F', '5A7F' + '00'.repeat(0x7f), 'ok'],
    ['81 80: 128 bytes', '5A8180' + '00'.repeat(0x80), 'ok'],
    ['82 01 00: 256 bytes', '5A820100' + '11'.repeat(256), 'ok'],
    ['82 01 00 with 255 bytes', '5A820100' + '11'.repeat(255), 'VALUE_MALFORMED 5A@4'],
    ['84: four length bytes', '5A8400000001' + '11', 'ok'],
    ['85: five length bytes', '5A850000000001' + '11', 'LENGTH_UNSUPPORTED 5A@1'],
    ['82 with one length byte', '5A8201', 'LENGTH_MALFORMED 5A@2'],
    ['81 with no length byte', '5A81', 'LENGTH_MALFORMED 5A@2'],
    ['no length at all', '5A', 'LENGTH_MALFORMED 5A@1'],
    ['80: indefinite', '5A80', 'LENGTH_INDEFINITE 5A@1'],
    ['value one byte short', '5A0211', 'VALUE_MALFORMED 5A@2'],
    ['a multi-byte tag cut', '9F', 'TAG_MALFORMED 9F@0'],
    ['a three-byte tag cut', '9F81', 'TAG_MALFORMED 9F81@0'],
    ['a three-byte tag', '9F810201AA', 'ok'],
    ['padding then a truncated object: the offset counts the padding', '00005A0211', 'VALUE_MALFORMED 5A@4'],
  ];
  for (const [what, h, want] of table) it(`${what} → ${want}`, () => expect(dec(h)).toBe(want));
  it('values and offsets', () => {
    const n = decodeTlv(fromHex('00' + '5A820100' + '11'.repeat(256) + '9F810201AA'));
    expect(n.map((x) => [x.tag, x.value.length, x.offset])).toEqual([['5A', 256, 1], ['9F8102', 1, 261]]);
    expect(decodeTlv(fromHex('5A8400000001AB'))[0]!.value).toEqual(Uint8Array.of(0xab));
  });
  it('without padding skipped, a 00 byte is a tag', () => {
    expect(decodeTlv(fromHex('000100'), { skipPadding: false }).map((x) => [x.tag, x.value.length])).toEqual([['00', 1]]);
  });
});

describe('decoding: nesting', () => {
  const nested = (depth: number) => { let h = '5A00'; for (let i = 0; i < depth; i++) h = '70' + (h.length / 2).toString(16).padStart(2, '0') + h; return h; };
  it('exactly at the limit is allowed; one deeper is refused', () => {
    expect(dec(nested(3), { maxDepth: 3 })).toBe('ok');
    expect(dec(nested(4), { maxDepth: 3 })).toBe('NESTING_TOO_DEEP 70@6');
    expect(dec(nested(16))).toBe('ok');
    expect(dec(nested(17))).toBe('NESTING_TOO_DEEP 70@32');
  });
  it('salvage mode still refuses nesting too deep', () => {
    expect(dec(nested(4), { maxDepth: 3, salvageTruncated: true })).toBe('NESTING_TOO_DEEP 70@6');
  });
  it('salvage mode keeps the complete children of a truncated template, within the depth limit', () => {
    const cut = fromHex('7009' + '5A01AA' + '9F0205');
    const got = decodeTlv(cut, { salvageTruncated: true });
    expect(got.map((x) => [x.tag, x.children?.map((c) => c.tag)])).toEqual([['70', ['5A']]]);
    expect(toHex(got[0]!.value)).toBe('5A01AA9F0205');
    expect(decodeTlv(cut, { salvageTruncated: true, maxDepth: 1 })).toHaveLength(1);
    expect(decodeTlv(cut, { salvageTruncated: true, maxDepth: 0 })).toHaveLength(0);
    // A truncated primitive ends the parse with what came before it.
    expect(decodeTlv(fromHex('5A01AA' + '5F2405'), { salvageTruncated: true }).map((x) => x.tag)).toEqual(['5A']);
    expect(dec('7009' + '5A01AA' + '9F0205')).toBe('VALUE_MALFORMED 70@2');
  });
});

describe('encoding', () => {
  const lengths: Array<[number, string]> = [[0, '00'], [0x7f, '7F'], [0x80, '8180'], [0xff, '81FF'], [0x100, '820100'], [0xffff, '82FFFF'], [0x10000, '83010000'], [0xffffffff, '84FFFFFFFF']];
  for (const [n, h] of lengths) it(`length ${n} → ${h}`, () => expect(toHex(encodeLength(n))).toBe(h));
  for (const n of [-1, 1.5, 0x100000000, Number.NaN]) it(`length ${n} refused`, () => expect(err(() => encodeLength(n))).toBe('ENCODE_INVALID -@0'));
  const tags: Array<[string, string]> = [
    ['5A', 'ok'], ['9F02', 'ok'], ['9F8102', 'ok'], ['DF8101', 'ok'],
    ['1F', 'ENCODE_INVALID 1F@0'], ['9F', 'ENCODE_INVALID 9F@0'], ['5A01', 'ENCODE_INVALID 5A01@0'], ['9F0280', 'ENCODE_INVALID 9F0280@0'],
    ['9F8182', 'ENCODE_INVALID 9F8182@0'], ['9F0102', 'ENCODE_INVALID 9F0102@0'], ['9F81', 'ENCODE_INVALID 9F81@0'],
  ];
  for (const [tag, want] of tags) it(`tag ${tag} → ${want}`, () => expect(err(() => encodeTlv([[tag, '01']]))).toBe(want));
  it('an empty tag is refused', () => expect(() => encodeTlv([['', '01']])).toThrow());
  it('a constructed tag: children, raw TLV bytes, or nothing; not raw bytes that are not TLV', () => {
    expect(toHex(encodeTlv([['70', [['5A', '11']]]]))).toBe('70035A0111');
    expect(toHex(encodeTlv([['70', '5A0111']]))).toBe('70035A0111');
    expect(toHex(encodeTlv([['70', '']]))).toBe('7000');
    expect(err(() => encodeTlv([['70', '5A02']]))).toBe('VALUE_MALFORMED 5A@2');
    expect(toHex(encodeTlv([['70', Uint8Array.of(0x5a, 0x02)]]))).toBe('70025A02');
    expect(err(() => encodeTlv([['5A', [['5A', '11']]]]))).toBe('ENCODE_INVALID 5A@0');
  });
  it('a value of 128 bytes takes the long form', () => expect(toHex(encodeTlv([['5A', '00'.repeat(128)]])).slice(0, 6)).toBe('5A8180'));
});

describe('views and errors', () => {
  it('constructed tags are those with bit 6 of the first byte', () => {
    expect(['70', '77', 'BF0C', '61', 'A5', '5A', '9F02', '1F', 'E1'].map(isConstructed)).toEqual([true, true, true, true, true, false, false, false, true]);
  });
  it('flatten, tree and search: later duplicates win; the first match is found depth first', () => {
    const n = decodeTlv(fromHex('7008' + '5A0111' + '7003' + '5A0122' + '5A0133'));
    expect([...flatten(n)].map(([t, v]) => [t, toHex(v)])).toEqual([['5A', '33']]);
    expect(toTree(n)).toEqual({ '70': { '5A': '11', '70': { '5A': '22' } }, '5A': '33' });
    expect(toHex(findTag(n, '5A')!.value)).toBe('11');
    expect(findTag(n, '70')!.offset).toBe(0);
    expect(findTag(n, '9F02')).toBeUndefined();
    expect(toHex(encodeTlv(treeToEntries({ '70': { '5A': '11' }, '9F02': '000000000100' })))).toBe('70035A01119F0206000000000100');
  });
  it('a typed error names its tag and offset, or "-" without a tag', () => {
    const e = (() => { try { decodeTlv(fromHex('5A0211')); } catch (x) { return x as TlvError; } })()!;
    expect([e.name, e.message]).toEqual(['TlvError', 'Tag value malformed, expecting 2 byte(s) (tag 5A at offset 2)']);
    expect((() => { try { encodeLength(-1); } catch (x) { return (x as Error).message; } })()).toBe('Length -1 cannot be encoded (tag - at offset 0)');
  });
});
