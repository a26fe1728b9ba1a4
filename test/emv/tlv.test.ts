import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../common/hex.ts';
import { TlvError, decodeTlv, encodeTlv, findTag, flatten, toTree } from '../../common/tlv.ts';
import { buildDol, mapSource, parseDol } from '../../common/emv/dol.ts';
import { parseAfl, parseGpoResponse } from '../../ree/emv/gpo.ts';
import { maskPan, parseTrack2, Track2Error } from '../../common/emv/track2.ts';
import { parsePpseFci } from '../../ree/emv/fci.ts';
import { readVectorFile, runVectors } from '../vectors/runner.ts';
import { publishedFile } from '../vectors/published.ts';

const vectors = publishedFile;

function errorOf(fn: () => unknown): TlvError {
  try { fn(); } catch (e) { if (e instanceof TlvError) return e; throw e; }
  throw new Error('expected a TlvError');
}

describe('BER-TLV', () => {
  it('passes every vector of tlv.json', async () => {
    const r = await runVectors(readVectorFile(vectors('tlv.json')));
    expect(r.failures).toEqual([]);
    expect(r.skipped).toBe(0);
    expect(r.passed).toBeGreaterThanOrEqual(36);
  });

  it('round-trips a nested structure and keeps order', () => {
    const data = fromHex('770E8202390094081801020120020400');
    const nodes = decodeTlv(data);
    expect(toHex(encodeTlv([['77', [['82', '3900'], ['94', '1801020120020400']]]]))).toBe(toHex(data));
    expect(findTag(nodes, '94')?.offset).toBe(6);
  });

  it('encodes long lengths minimally', () => {
    expect(toHex(encodeTlv([['9F4B', new Uint8Array(128)]])).slice(0, 10)).toBe('9F4B818000');
    expect(toHex(encodeTlv([['90', new Uint8Array(256)]])).slice(0, 8)).toBe('90820100');
  });

  it('gives typed errors with tag and offset', () => {
    expect(errorOf(() => decodeTlv(fromHex('9F'))).code).toBe('TAG_MALFORMED');
    const e = errorOf(() => decodeTlv(fromHex('9C01FF5F2A03')));
    expect([e.code, e.tag, e.offset]).toEqual(['VALUE_MALFORMED', '5F2A', 6]);
    expect(errorOf(() => decodeTlv(fromHex('9C85000000000100'))).code).toBe('LENGTH_UNSUPPORTED');
    expect(errorOf(() => encodeTlv([['9F', '00']])).code).toBe('ENCODE_INVALID');
    expect(errorOf(() => encodeTlv([['9C', [['9F02', '00']]]])).code).toBe('ENCODE_INVALID');
  });

  it('refuses hostile nesting instead of overflowing the stack', () => {
    const deep = fromHex('E002'.repeat(40) + '');
    expect(errorOf(() => decodeTlv(deep)).code).toMatch(/NESTING_TOO_DEEP|VALUE_MALFORMED/);
    let nested: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 20; i++) nested = encodeTlv([['E0', nested]]);
    expect(errorOf(() => decodeTlv(nested)).code).toBe('NESTING_TOO_DEEP');
    expect(() => decodeTlv(nested, { maxDepth: 32 })).not.toThrow();
  });

  it('skips 00 padding between objects as cards send it', () => {
    expect(toTree(decodeTlv(fromHex('9C0101000000')))).toEqual({ '9C': '01' });
    expect(flatten(decodeTlv(fromHex('00009F360200AA'))).get('9F36')).toEqual(fromHex('00AA'));
  });

  it('salvages complete entries of a truncated PPSE only when asked', () => {
    const full = encodeTlv([['6F', [['84', toHex(new TextEncoder().encode('2PAY.SYS.DDF01'))], ['A5', [['BF0C', [
      ['61', [['4F', 'A000000333010101'], ['87', '01'], ['9F2A', '07']]],
      ['61', [['4F', 'A0000000031010'], ['87', '02'], ['9F2A', '03']]],
    ]]]]]]]);
    expect(parsePpseFci(full).map((e) => [e.aid, e.priority, e.kernelId])).toEqual([['A000000333010101', 1, '07'], ['A0000000031010', 2, '03']]);
    const truncated = full.subarray(0, full.length - 1);
    expect(() => parsePpseFci(truncated)).toThrow(TlvError);
    // The truncated second entry keeps its complete children (AID, priority), not its kernel id.
    expect(parsePpseFci(truncated, { salvage: true }).map((e) => [e.aid, e.kernelId])).toEqual([['A000000333010101', '07'], ['A0000000031010', undefined]]);
  });
});

describe('DOL', () => {
  it('fits values per format: n right-justified, cn F-padded, b truncated', () => {
    const dol = parseDol(fromHex('9F02039C025A049F3702'));
    const data = buildDol(dol, mapSource({ '9F02': '000000001234', '9C': '00', '5A': '4761739001', '9F37': 'A1B2C3D4' }));
    expect(toHex(data)).toBe('001234' + '0000' + '47617390' + 'A1B2');
  });
  it('zero-fills unknown and constructed tags', () => {
    expect(toHex(buildDol(parseDol(fromHex('DF010270027F0101')), mapSource({ '70': '1122' })))).toBe('0000000000');
  });
  it('rejects a DOL cut inside an entry', () => {
    expect(() => parseDol(fromHex('9F02069F'))).toThrow(TlvError);
    expect(() => parseDol(fromHex('9F02'))).toThrow(TlvError);
  });
});

describe('GPO and AFL', () => {
  it('rejects a format 1 response of the wrong size', () => {
    expect(() => parseGpoResponse(fromHex('8003780008'))).toThrow(TlvError);
  });
  it('rejects invalid AFL entries', () => {
    expect(parseAfl(fromHex('08010100'))).toEqual([{ sfi: 1, first: 1, last: 1, odaCount: 0 }]);
    expect(() => parseAfl(fromHex('08020100'))).toThrow(TlvError);
    expect(() => parseAfl(fromHex('00010100'))).toThrow(TlvError);
    expect(() => parseAfl(fromHex('08010102'))).toThrow(TlvError);
  });
});

describe('Track 2 equivalent data', () => {
  it('parses and masks', () => {
    const t = parseTrack2('6212345678901234D30122010000012300000F');
    expect([t.pan, t.expiry, t.serviceCode]).toEqual(['6212345678901234', '3012', '201']);
    expect(maskPan(t.pan)).toBe('621234******1234');
  });
  it('rejects malformed data', () => {
    expect(() => parseTrack2('6212345678901234')).toThrow(Track2Error);
    expect(() => parseTrack2('6212345678901234D30132010000F')).toThrow(Track2Error);
  });
});
