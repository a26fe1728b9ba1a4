// Every decision of offline data authentication's terminal side (ree/emv/oda/, EMV 4.4 Book 2
// §5.1, §6.2–6.6, Tables 6, 14, 17; Book C-3 §5.3 for fDDA), by table, with the test PKI's
// exponent-3 keys (sim/cards/test-pki.ts: a 1024-bit CA and issuer, a 768-bit ICC key) so a
// recovery costs microseconds: header 6A and trailer BC, the certificate format byte, the hash
// over body || remainder || exponent (|| static data), issuer identifier against the PAN,
// expiry at the end of month MMYY against the transaction date (same month: valid; next month:
// expired), hash and public key algorithm indicators, key and exponent lengths, the SDA tag
// list, the CA key store's RID/index/expiry, fDDA's version, CDA's CID and transaction hash.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { capkChecksum, OdaError, openSdad, recoverIccKey, recoverIssuerKey } from '../../ree/emv/oda/certificates.ts';
import { CapkStore } from '../../ree/emv/oda/capk-store.ts';
import { recoverIccPublicKey, withAip } from '../../ree/emv/oda/key-chain.ts';
import { verifyFdda } from '../../ree/emv/oda/fdda.ts';
import { verifyCda } from '../../ree/emv/oda/cda.ts';
import { rsaRecover } from '../../ree/emv/oda/rsa.ts';
import { rsaSign, testPki, testSm2Pki } from '../../sim/cards/test-pki.ts';
import { openSm2Sdad, recoverSm2IccKey, recoverSm2IssuerKey } from '../../ree/emv/oda/sm2-certificates.ts';
import { sm2Sign } from '../../common/sm2.ts';
import { concat, fromHex, toHex } from '../../common/hex.ts';
import { decodeTlv } from '../../common/tlv.ts';
import type { KeyObject } from 'node:crypto';
import type { RsaPublicKey } from '../../common/emv/ca-keys.ts';

const pki = testPki('visa');
const PAN = '4761739001010010';
const TXN = fromHex('261206'); // 6 December 2026
const sha1 = (...p: Uint8Array[]) => new Uint8Array(createHash('sha1').update(concat(...p)).digest());
const u8 = (...b: number[]) => Uint8Array.from(b);

/** The OdaFailure code fn throws, or 'ok'. */
function code(fn: () => unknown): string {
  try { fn(); return 'ok'; } catch (e) {
    if (e instanceof OdaError) return e.code;
    throw e;
  }
}

interface Block { head?: number; tail?: number; hash?: Uint8Array }
/** 6A | body | SHA-1(body || extra) | BC signed by `priv`, with the key field padded by BB. */
function seal(priv: KeyObject, len: number, header: Uint8Array, key: Uint8Array, extra: Uint8Array, b: Block = {}): Uint8Array {
  const room = len - header.length - 22;
  const field = new Uint8Array(room).fill(0xbb);
  field.set(key.subarray(0, room));
  const body = concat(header, field);
  return rsaSign(priv, concat(u8(b.head ?? 0x6a), body, b.hash ?? sha1(body, extra), u8(b.tail ?? 0xbc)));
}

interface IssuerCert extends Block { format?: number; id?: string; expiry?: string; hashAlg?: number; pkAlg?: number; keyLen?: number; expLen?: number; hashRemainder?: Uint8Array }
const ISSUER_ROOM = 128 - 36;
const issuerRemainder = pki.issuer.pub.modulus.subarray(ISSUER_ROOM);
/** An issuer PK certificate (Book 2 Table 6) for the test issuer key under the test CA. */
function issuerCert(o: IssuerCert = {}): Uint8Array {
  const k = pki.issuer.pub;
  const header = concat(u8(o.format ?? 0x02), fromHex(o.id ?? '4761FFFF'), fromHex(o.expiry ?? '1226'), fromHex('000042'),
    u8(o.hashAlg ?? 1, o.pkAlg ?? 1, o.keyLen ?? k.modulus.length, o.expLen ?? k.exponent.length));
  return seal(pki.ca.priv, 128, header, k.modulus, concat(o.hashRemainder ?? issuerRemainder, k.exponent), o);
}
const issuerKey = (cert = issuerCert(), remainder = issuerRemainder, exponent = pki.issuer.pub.exponent, pan = PAN, txn = TXN) =>
  recoverIssuerKey(pki.capk, cert, remainder, exponent, pan, txn);

const STATIC = fromHex('5A0847617390010100105F24032812319F0702FF00');
interface IccCert extends Block { format?: number; pan?: string; expiry?: string; hashAlg?: number; pkAlg?: number; keyLen?: number; expLen?: number; hashStatic?: Uint8Array; hashRemainder?: Uint8Array }
const ICC_ROOM = 128 - 42;
const iccRemainder = pki.icc.pub.modulus.subarray(ICC_ROOM);
/** An ICC PK certificate (Book 2 Table 14) for the test ICC key under the test issuer key. */
function iccCert(o: IccCert = {}): Uint8Array {
  const k = pki.icc.pub;
  const header = concat(u8(o.format ?? 0x04), fromHex((o.pan ?? PAN).padEnd(20, 'F')), fromHex(o.expiry ?? '1226'), fromHex('000007'),
    u8(o.hashAlg ?? 1, o.pkAlg ?? 1, o.keyLen ?? k.modulus.length, o.expLen ?? k.exponent.length));
  return seal(pki.issuer.priv, 128, header, k.modulus, concat(o.hashRemainder ?? iccRemainder, k.exponent, o.hashStatic ?? STATIC), o);
}
const iccKey = (cert = iccCert(), remainder = iccRemainder, txn = TXN, exponent = pki.icc.pub.exponent) =>
  recoverIccKey(pki.issuer.pub, cert, remainder, exponent, STATIC, PAN, txn);

/** Signed Dynamic Application Data (Book 2 Table 17) by the test ICC key. */
function sdad(dyn: Uint8Array, tdd: Uint8Array, o: Block & { format?: number; ldd?: number } = {}): Uint8Array {
  return seal(pki.icc.priv, 96, concat(u8(o.format ?? 0x05, 0x01, o.ldd ?? dyn.length), dyn), new Uint8Array(0), tdd, o);
}

describe('issuer public key certificate (Book 2 §6.3, Table 6)', () => {
  it('a genuine certificate gives the issuer key, its expiry MMYY and serial', () => {
    const k = issuerKey();
    expect([toHex(k.modulus), toHex(k.exponent), k.expiry, k.serial]).toEqual([toHex(pki.issuer.pub.modulus), '03', '1226', '000042']);
  });
  const table: Array<[string, () => unknown, string]> = [
    ['a certificate one byte shorter than the CA key', () => issuerKey(issuerCert().subarray(1)), 'ISSUER_CERT_INVALID'],
    ['a certificate not below the CA modulus', () => issuerKey(new Uint8Array(128).fill(0xff)), 'ISSUER_CERT_INVALID'],
    ['header 6B instead of 6A', () => issuerKey(issuerCert({ head: 0x6b })), 'ISSUER_CERT_INVALID'],
    ['trailer BD instead of BC', () => issuerKey(issuerCert({ tail: 0xbd })), 'ISSUER_CERT_INVALID'],
    ['format 04 (an ICC certificate) instead of 02', () => issuerKey(issuerCert({ format: 0x04 })), 'ISSUER_CERT_INVALID'],
    ['hash over another remainder', () => issuerKey(issuerCert({ hashRemainder: new Uint8Array(issuerRemainder.length) })), 'ISSUER_CERT_INVALID'],
    ['a wrong hash', () => issuerKey(issuerCert({ hash: new Uint8Array(20) })), 'ISSUER_CERT_INVALID'],
    ['the right remainder but another exponent in 9F32', () => issuerKey(issuerCert(), issuerRemainder, u8(1, 0, 1)), 'ISSUER_CERT_INVALID'],
    ['issuer identifier 4762 for PAN 4761…', () => issuerKey(issuerCert({ id: '4762FFFF' })), 'ISSUER_ID_MISMATCH'],
    ['the full 8-digit identifier of the PAN', () => issuerKey(issuerCert({ id: '47617390' })), 'ok'],
    ['an 8-digit identifier one digit off', () => issuerKey(issuerCert({ id: '47617391' })), 'ISSUER_ID_MISMATCH'],
    ['expiring at the end of this month (MMYY 1226, 6 Dec 2026)', () => issuerKey(issuerCert({ expiry: '1226' })), 'ok'],
    ['expiring at the end of last month (1126)', () => issuerKey(issuerCert({ expiry: '1126' })), 'ISSUER_CERT_EXPIRED'],
    ['expiring in January next year (0127: month and year are swapped into YYMM)', () => issuerKey(issuerCert({ expiry: '0127' })), 'ok'],
    ['expired a year ago in the same month (1225)', () => issuerKey(issuerCert({ expiry: '1225' })), 'ISSUER_CERT_EXPIRED'],
    ['valid on 31 December, expired on 1 January', () => [code(() => issuerKey(issuerCert(), issuerRemainder, undefined, PAN, fromHex('261231'))), code(() => issuerKey(issuerCert(), issuerRemainder, undefined, PAN, fromHex('270101')))], ''],
    ['hash algorithm indicator 02', () => issuerKey(issuerCert({ hashAlg: 2 })), 'ISSUER_CERT_INVALID'],
    ['public key algorithm indicator 04 (SM2) in an RSA certificate', () => issuerKey(issuerCert({ pkAlg: 4 })), 'ISSUER_CERT_INVALID'],
    ['exponent length 3 in the certificate, 1 byte in 9F32', () => issuerKey(issuerCert({ expLen: 3 })), 'ISSUER_CERT_INVALID'],
    ['remainder missing', () => issuerKey(issuerCert(), new Uint8Array(0)), 'ISSUER_CERT_INVALID'],
    ['remainder one byte short (hash still over the full one)', () => issuerKey(issuerCert({ hashRemainder: issuerRemainder.subarray(1) }), issuerRemainder.subarray(1)), 'ISSUER_CERT_INVALID'],
    ['remainder one byte long', () => issuerKey(issuerCert({ hashRemainder: concat(issuerRemainder, u8(0)) }), concat(issuerRemainder, u8(0))), 'ISSUER_CERT_INVALID'],
    ['an identifier padded at the front (FFFF4761), not the end', () => issuerKey(issuerCert({ id: 'FFFF4761' })), 'ISSUER_ID_MISMATCH'],
    ['a key exactly as long as its room in the certificate, with a remainder present: the remainder is not part of it', () => issuerKey(issuerCert({ keyLen: ISSUER_ROOM, hashRemainder: u8(1, 2) }), u8(1, 2)), 'ok'],
  ];
  for (const [what, fn, want] of table) {
    if (want === '') it(what, () => expect(fn()).toEqual(['ok', 'ISSUER_CERT_EXPIRED']));
    else it(what, () => expect(code(fn)).toBe(want));
  }
  it('each refusal says which check failed', () => {
    expect(() => issuerKey(issuerCert().subarray(1))).toThrow(/issuer certificate of 127 bytes for a 128-byte CA key/);
    expect(() => issuerKey(issuerCert({ expLen: 3 }))).toThrow(/exponent length 3/);
    expect(() => issuerKey(issuerCert({ hashRemainder: issuerRemainder.subarray(1) }), issuerRemainder.subarray(1))).toThrow(/remainder/);
    expect(() => issuerKey(issuerCert({ hashAlg: 2 }))).toThrow(/algorithm/);
    expect(() => issuerKey(issuerCert({ hash: new Uint8Array(20) }))).toThrow(/hash does not match/);
  });
  it('an OdaError is named so', () => {
    try { issuerKey(issuerCert({ id: '4762FFFF' })); } catch (e) { expect((e as Error).name).toBe('OdaError'); }
    expect.assertions(1);
  });
  it('a key shorter than its room in the certificate is cut at its length, padding left out', () => {
    // The issuer key field holds 92 bytes; a certificate that says the key is 80 bytes long.
    const cert = issuerCert({ keyLen: 80, hashRemainder: new Uint8Array(0) });
    const k = issuerKey(cert, new Uint8Array(0));
    expect(toHex(k.modulus)).toBe(toHex(pki.issuer.pub.modulus.subarray(0, 80)));
  });
});

describe('the CA key itself (Book 2 §5.1, Annex B2.1)', () => {
  const ca = (o: Partial<RsaPublicKey>) => ({ ...pki.capk, ...o });
  const table: Array<[string, () => unknown, string]> = [
    ['exponent 5', () => recoverIssuerKey(ca({ exponent: u8(5) }), issuerCert(), issuerRemainder, u8(3), PAN, TXN), 'ISSUER_CERT_INVALID'],
    ['no exponent', () => recoverIssuerKey(ca({ exponent: new Uint8Array(0) }), issuerCert(), issuerRemainder, u8(3), PAN, TXN), 'ISSUER_CERT_INVALID'],
    ['a modulus with a leading zero byte', () => recoverIssuerKey(ca({ modulus: concat(u8(0), pki.capk.modulus.subarray(1)) }), u8(0, ...issuerCert().subarray(1)), issuerRemainder, u8(3), PAN, TXN), 'ISSUER_CERT_INVALID'],
    ['a 41-byte modulus (cannot hold 6A | hash | BC and a header)', () => recoverIssuerKey(ca({ modulus: new Uint8Array(41).fill(0xff) }), new Uint8Array(41).fill(1), new Uint8Array(0), u8(3), PAN, TXN), 'ISSUER_CERT_INVALID'],
    ['a 42-byte modulus is used (the block check then refuses it)', () => recoverIssuerKey(ca({ modulus: new Uint8Array(42).fill(0xff) }), new Uint8Array(42).fill(1), new Uint8Array(0), u8(3), PAN, TXN), 'ISSUER_CERT_INVALID'],
  ];
  for (const [what, fn, want] of table) it(what, () => expect(code(fn)).toBe(want));
  it('the failure says why', () => {
    expect(() => recoverIssuerKey(ca({ exponent: u8(5) }), issuerCert(), issuerRemainder, u8(3), PAN, TXN)).toThrow(/neither 3 nor 65537/);
    expect(() => recoverIssuerKey(ca({ modulus: new Uint8Array(41).fill(0xff) }), new Uint8Array(41).fill(1), new Uint8Array(0), u8(3), PAN, TXN)).toThrow(/41 bytes cannot carry/);
    expect(() => recoverIssuerKey(ca({ modulus: concat(u8(0), pki.capk.modulus.subarray(1)) }), u8(0, ...issuerCert().subarray(1)), issuerRemainder, u8(3), PAN, TXN)).toThrow(/128 bytes cannot carry/);
    expect(() => recoverIssuerKey(ca({ modulus: new Uint8Array(42).fill(0xff) }), new Uint8Array(42).fill(1), new Uint8Array(0), u8(3), PAN, TXN)).toThrow(/header/);
    expect(() => issuerKey(new Uint8Array(128).fill(0xff))).toThrow(/not smaller than the modulus/);
  });
  it('65537 is an accepted exponent', () => {
    // The recovery runs (and the block check refuses the data, signed for exponent 3).
    expect(() => recoverIssuerKey(ca({ exponent: u8(1, 0, 1) }), issuerCert(), issuerRemainder, u8(3), PAN, TXN)).toThrow(/header|hash/);
  });
});

describe('ICC public key certificate (Book 2 §6.4, Table 14)', () => {
  it('a genuine certificate gives the ICC key and its expiry', () => {
    const k = iccKey();
    expect([toHex(k.modulus), toHex(k.exponent), k.expiry]).toEqual([toHex(pki.icc.pub.modulus), '03', '1226']);
  });
  const table: Array<[string, () => unknown, string]> = [
    ['a certificate one byte longer than the issuer key', () => iccKey(concat(iccCert(), u8(0))), 'ICC_CERT_INVALID'],
    ['header 6B', () => iccKey(iccCert({ head: 0x6b })), 'ICC_CERT_INVALID'],
    ['trailer 00', () => iccKey(iccCert({ tail: 0 })), 'ICC_CERT_INVALID'],
    ['format 02 (an issuer certificate) instead of 04', () => iccKey(iccCert({ format: 0x02 })), 'ICC_CERT_INVALID'],
    ['hash over other static data', () => iccKey(iccCert({ hashStatic: STATIC.subarray(1) })), 'ICC_CERT_INVALID'],
    ['another PAN', () => iccKey(iccCert({ pan: '4761739001010011' })), 'ICC_PAN_MISMATCH'],
    ['a PAN prefix of the card\'s', () => iccKey(iccCert({ pan: '476173900101001' })), 'ICC_PAN_MISMATCH'],
    ['expiring at the end of this month (1226)', () => iccKey(iccCert({ expiry: '1226' })), 'ok'],
    ['expiring at the end of last month (1126)', () => iccKey(iccCert({ expiry: '1126' })), 'ICC_CERT_EXPIRED'],
    ['expiring in January next year (0127)', () => iccKey(iccCert({ expiry: '0127' })), 'ok'],
    ['hash algorithm indicator 00', () => iccKey(iccCert({ hashAlg: 0 })), 'ICC_CERT_INVALID'],
    ['public key algorithm indicator 02', () => iccKey(iccCert({ pkAlg: 2 })), 'ICC_CERT_INVALID'],
    ['exponent length 3 in the certificate, 1 byte in 9F47', () => iccKey(iccCert({ expLen: 3 })), 'ICC_CERT_INVALID'],
    ['the exponent in 9F47 is not the one hashed', () => iccKey(iccCert(), iccRemainder, TXN, u8(2)), 'ICC_CERT_INVALID'],
    ['remainder missing', () => iccKey(iccCert(), new Uint8Array(0)), 'ICC_CERT_INVALID'],
    ['remainder one byte short (hash over it)', () => iccKey(iccCert({ hashRemainder: iccRemainder.subarray(1) }), iccRemainder.subarray(1)), 'ICC_CERT_INVALID'],
    ['a certificate not below the issuer modulus', () => iccKey(new Uint8Array(128).fill(0xff)), 'ICC_CERT_INVALID'],
    ['a PAN padded at the front', () => iccKey(iccCert({ pan: 'FFFF4761739001010010' })), 'ICC_PAN_MISMATCH'],
    ['a key exactly as long as its room, with a remainder present', () => iccKey(iccCert({ keyLen: ICC_ROOM, hashRemainder: u8(9) }), u8(9)), 'ok'],
  ];
  for (const [what, fn, want] of table) it(what, () => expect(code(fn)).toBe(want));
  it('a key shorter than its room is cut at its length; the refusals say why', () => {
    expect(toHex(iccKey(iccCert({ keyLen: 80, hashRemainder: new Uint8Array(0) }), new Uint8Array(0)).modulus)).toBe(toHex(pki.icc.pub.modulus.subarray(0, 80)));
    expect(() => iccKey(concat(iccCert(), u8(0)))).toThrow(/ICC certificate of 129 bytes for a 128-byte issuer key/);
    expect(() => iccKey(iccCert({ hashRemainder: iccRemainder.subarray(1) }), iccRemainder.subarray(1))).toThrow(/remainder/);
  });
  it('valid on 31 December, expired on 1 January', () => {
    expect([code(() => iccKey(iccCert(), iccRemainder, fromHex('261231'))), code(() => iccKey(iccCert(), iccRemainder, fromHex('270101')))]).toEqual(['ok', 'ICC_CERT_EXPIRED']);
  });
});

describe('Signed Dynamic Application Data (Book 2 Table 17)', () => {
  const icc = pki.icc.pub;
  const dyn = fromHex('0812345678');
  const un = fromHex('CAFEBABE');
  const table: Array<[string, () => unknown, string]> = [
    ['an SDAD one byte short of the ICC key', () => openSdad(icc, sdad(dyn, un).subarray(1), un), 'SDAD_INVALID'],
    ['header 6B', () => openSdad(icc, sdad(dyn, un, { head: 0x6b }), un), 'SDAD_INVALID'],
    ['trailer BB', () => openSdad(icc, sdad(dyn, un, { tail: 0xbb }), un), 'SDAD_INVALID'],
    ['format 04 instead of 05', () => openSdad(icc, sdad(dyn, un, { format: 0x04 }), un), 'SDAD_INVALID'],
    ['another unpredictable number', () => openSdad(icc, sdad(dyn, un), fromHex('CAFEBABF')), 'SDAD_INVALID'],
    ['LDD up to the end of the body', () => openSdad(icc, sdad(dyn, un, { ldd: 96 - 22 - 3 }), un), 'ok'],
    ['LDD one past the end of the body', () => openSdad(icc, sdad(dyn, un, { ldd: 96 - 22 - 2 }), un), 'SDAD_INVALID'],
    ['an SDAD not below the ICC modulus', () => openSdad(icc, new Uint8Array(96).fill(0xff), un), 'SDAD_INVALID'],
  ];
  it('a wrong length is named', () => expect(() => openSdad(icc, sdad(dyn, un).subarray(1), un)).toThrow(/SDAD of 95 bytes for a 96-byte ICC key/));
  for (const [what, fn, want] of table) it(what, () => expect(code(fn)).toBe(want));
  it('returns exactly the LDD bytes of ICC dynamic data', () => expect(toHex(openSdad(icc, sdad(dyn, un), un))).toBe('0812345678'));
});

describe('CA keys: the checksum (Book 2 §11.2.2) and the store', () => {
  it('checksum: SHA-1 of RID || index || modulus || exponent', () => {
    expect(toHex(capkChecksum(pki.capk))).toBe(toHex(sha1(fromHex(pki.capk.rid), fromHex(pki.capk.index), pki.capk.modulus, pki.capk.exponent)));
    expect(() => capkChecksum({ ...pki.capk, rid: 'A00000000X' })).toThrow(/RID/);
    expect(() => capkChecksum({ ...pki.capk, index: 'FX' })).toThrow(/CA key index/);
  });
  const store = { find: (...a: Parameters<CapkStore['find']>) => new CapkStore([
    { rid: 'a000000003', index: 'f1', modulus: toHex(pki.capk.modulus), exponent: '03', expiry: '261231' },
    { rid: 'A000000333', index: 'F2', modulus: '00', exponent: '03', algorithm: '04' },
    { rid: 'A000000004', index: 'F3', modulus: '00', exponent: '03' },
  ]).find(...a) };
  const table: Array<[string, string, string, string, string | undefined]> = [
    ['RID and index in any case', 'A000000003', 'F1', '261206', 'A000000003/F1'],
    ['lower-case look-up', 'a000000003', 'f1', '261206', 'A000000003/F1'],
    ['on its expiry date', 'A000000003', 'F1', '261231', 'A000000003/F1'],
    ['the day after its expiry date', 'A000000003', 'F1', '270101', undefined],
    ['another index', 'A000000003', 'F2', '261206', undefined],
    ['another RID', 'A000000004', 'F1', '261206', undefined],
    ['no expiry: always', 'A000000004', 'F3', '991231', 'A000000004/F3'],
  ];
  for (const [what, rid, index, date, want] of table) {
    it(what, () => {
      const k = store.find(rid, index, date);
      expect(k ? `${k.rid}/${k.index}` : undefined).toBe(want);
    });
  }
  it('the algorithm indicator is read as hex; absent when not configured', () => {
    expect([store.find('A000000333', 'F2', '261206')?.algorithm, store.find('A000000004', 'F3', '261206')?.algorithm]).toEqual([4, undefined]);
    expect(toHex(store.find('A000000003', 'F1', '261206')!.modulus)).toBe(toHex(pki.capk.modulus));
  });
});

describe('the key chain from the card\'s data objects (Book 2 §6.2–6.4) and the SDA tag list', () => {
  const capks = new CapkStore([{ rid: pki.capk.rid, index: pki.capk.index, modulus: toHex(pki.capk.modulus), exponent: '03' }]);
  const card = (o: Record<string, Uint8Array | null> = {}) => {
    const base: Record<string, Uint8Array | null> = {
      '8F': fromHex(pki.capk.index), '90': issuerCert(), '92': issuerRemainder, '9F32': u8(3),
      '9F46': iccCert(), '9F48': iccRemainder, '9F47': u8(3), ...o,
    };
    return new Map(Object.entries(base).filter(([, v]) => v !== null) as Array<[string, Uint8Array]>);
  };
  const chain = (c = card(), aid = `${pki.capk.rid}1010`, store = capks) => recoverIccPublicKey(store, aid, c, STATIC, PAN, TXN);
  it('CA key → issuer key → ICC key', () => expect(toHex((chain() as RsaPublicKey).modulus)).toBe(toHex(pki.icc.pub.modulus)));
  const table: Array<[string, () => unknown, string]> = [
    ['8F missing', () => chain(card({ '8F': null })), 'DATA_MISSING'],
    ['90 missing', () => chain(card({ '90': null })), 'DATA_MISSING'],
    ['9F32 missing', () => chain(card({ '9F32': null })), 'DATA_MISSING'],
    ['9F46 missing', () => chain(card({ '9F46': null })), 'DATA_MISSING'],
    ['9F47 missing', () => chain(card({ '9F47': null })), 'DATA_MISSING'],
    ['92 missing: the issuer key is incomplete', () => chain(card({ '92': null })), 'ISSUER_CERT_INVALID'],
    ['9F48 missing: the ICC key is incomplete', () => chain(card({ '9F48': null })), 'ICC_CERT_INVALID'],
    ['an index the terminal has no key for', () => chain(card({ '8F': u8(0xf9) })), 'CAPK_MISSING'],
    ['another RID\'s AID', () => chain(card(), 'A0000000041010'), 'CAPK_MISSING'],
    ['a CA key of algorithm 02', () => chain(card(), undefined, new CapkStore([{ rid: pki.capk.rid, index: pki.capk.index, modulus: toHex(pki.capk.modulus), exponent: '03', algorithm: '02' }])), 'CAPK_MISSING'],
    ['a CA key of algorithm 01 (RSA, stated)', () => chain(card(), undefined, new CapkStore([{ rid: pki.capk.rid, index: pki.capk.index, modulus: toHex(pki.capk.modulus), exponent: '03', algorithm: '01' }])), 'ok'],
  ];
  for (const [what, fn, want] of table) it(what, () => expect(code(fn)).toBe(want));

  const records = fromHex('5A08476173');
  const aip = fromHex('1980');
  it('no 9F4A or an empty one: the records alone', () => {
    expect(toHex(withAip(records, undefined, aip))).toBe('5A08476173');
    expect(toHex(withAip(records, new Uint8Array(0), aip))).toBe('5A08476173');
  });
  it('9F4A = 82: the records then the AIP', () => expect(toHex(withAip(records, u8(0x82), aip))).toBe('5A084761731980'));
  it('any other SDA tag list is refused', () => {
    expect([code(() => withAip(records, u8(0x83), aip)), code(() => withAip(records, u8(0x82, 0x82), aip)), code(() => withAip(records, u8(0x9f, 0x82), aip))])
      .toEqual(['DATA_MISSING', 'DATA_MISSING', 'DATA_MISSING']);
  });
});

describe('fDDA (Book C-3 §5.3): the version and the terminal dynamic data', () => {
  const icc = { ...pki.icc.pub, expiry: '1226' };
  const un = fromHex('01020304'), amount = fromHex('000000001000'), currency = fromHex('0978');
  const v01 = fromHex('01AABBCCDD0000');
  const dyn = fromHex('02ABCD');
  const table: Array<[string, Uint8Array, Uint8Array | undefined, boolean, string]> = [
    ['version 01 signs UN | amount | currency | 9F69', concat(un, amount, currency, v01), v01, true, 'ok'],
    ['version 01 not signed over the amount', un, v01, true, 'SDAD_INVALID'],
    ['version 00 (no 9F69) signs the UN alone', un, undefined, false, 'ok'],
    ['version 00 when version 01 is required', un, undefined, true, 'FDDA_VERSION'],
    ['9F69 of version 02 when version 01 is required', un, fromHex('02AABBCCDD0000'), true, 'FDDA_VERSION'],
    ['9F69 of version 00 is the UN alone', un, fromHex('00AABBCCDD0000'), false, 'ok'],
  ];
  for (const [what, tdd, cardAuthData, requireVersion01, want] of table) {
    it(what, () => expect(code(() => verifyFdda(icc, { sdad: sdad(dyn, tdd), un, amount, currency, cardAuthData, requireVersion01 }))).toBe(want));
  }
  it('returns the ICC dynamic data', () => {
    expect(toHex(verifyFdda(icc, { sdad: sdad(dyn, concat(un, amount, currency, v01)), un, amount, currency, cardAuthData: v01, requireVersion01: true }))).toBe('02ABCD');
  });
});

describe('CDA (Book 2 §6.6.2): the CID and the transaction data hash', () => {
  const icc = { ...pki.icc.pub, expiry: '1226' };
  const un = fromHex('11223344');
  const pdolData = fromHex('000000001000'), cdol1Data = fromHex('0978261206');
  const ac = fromHex('1122334455667788');
  // GENERATE AC response template 77: 9F27 CID, 9F36 ATC, 9F4B SDAD (left out of the hash), 9F10 IAD.
  const responseFor = (sd: Uint8Array) => {
    const bytes = concat(fromHex('9F270180 9F36020012'.replace(/ /g, '')), fromHex('9F4B'), u8(0x81, sd.length), sd, fromHex('9F100706010A03A00000'));
    return { bytes, tlv: decodeTlv(bytes) };
  };
  const hashed = concat(pdolData, cdol1Data, fromHex('9F2701809F360200129F100706010A03A00000'));
  const icDyn = (o: { ldn?: number; cid?: number; hash?: Uint8Array; cut?: number; rrp?: Uint8Array } = {}) => {
    const d = concat(u8(o.ldn ?? 2, 0xab, 0xcd), u8(o.cid ?? 0x80), ac, o.hash ?? sha1(hashed), o.rrp ?? new Uint8Array(0));
    return d.subarray(0, d.length - (o.cut ?? 0));
  };
  const run = (dyn: Uint8Array, cid = u8(0x80), relayResistanceData?: Uint8Array) => {
    const sd = sdad(dyn, un);
    const r = responseFor(sd);
    return verifyCda(icc, { sdad: sd, un, cid, pdolData, cdol1Data, response: r.tlv, responseBytes: r.bytes, relayResistanceData });
  };
  // Kernel 2 relay resistance (Book C-2): terminal entropy (4) || the card's RRP data (10), signed after the hash.
  const rrp = fromHex('0102030405060708090A0B0C0D0E');
  const rrpOther = rrp.map((b, i) => (i === rrp.length - 1 ? b ^ 1 : b));
  it('relay resistance data signed right after the hash, as exchanged: the AC', () => {
    expect(toHex(run(icDyn({ rrp }), u8(0x80), rrp))).toBe(toHex(ac));
    // Without relay resistance the bytes after the hash are not looked at.
    expect(toHex(run(icDyn({ rrp })))).toBe(toHex(ac));
  });
  it('returns the AC in the signature when CID and hash agree, as its own 8 bytes', () => {
    const r = run(icDyn());
    expect([toHex(r), r.buffer.byteLength]).toEqual([toHex(ac), 8]);
  });
  it('hashes the objects as sent, also when the response bytes are a view into a larger buffer', () => {
    const sd = sdad(icDyn(), un);
    const r = responseFor(sd);
    const view = concat(u8(0xee, 0xee, 0xee), r.bytes).subarray(3);
    expect(toHex(verifyCda(icc, { sdad: sd, un, cid: u8(0x80), pdolData, cdol1Data, response: decodeTlv(view), responseBytes: view }))).toBe(toHex(ac));
  });
  it('one byte of ICC dynamic data is too short, none is empty', () => {
    expect(() => run(u8(0))).toThrow(/too short for CDA/);
    expect(() => run(new Uint8Array(0))).toThrow(/empty/);
  });
  const table: Array<[string, () => unknown, string]> = [
    ['the CID in the signature (80, an ARQC) differs from 9F27 (40, a TC)', () => run(icDyn(), u8(0x40)), 'CDA_CID_MISMATCH'],
    ['a TC signed, an ARQC in 9F27', () => run(icDyn({ cid: 0x40 })), 'CDA_CID_MISMATCH'],
    ['a hash over other data', () => run(icDyn({ hash: sha1(pdolData) })), 'CDA_HASH_MISMATCH'],
    ['one byte short of LDN + CID + AC + hash', () => run(icDyn({ cut: 1 })), 'SDAD_INVALID'],
    ['an LDN that runs past the data', () => run(icDyn({ ldn: 3 })), 'SDAD_INVALID'],
    ['relay resistance data differing in its last byte', () => run(icDyn({ rrp: rrpOther }), u8(0x80), rrp), 'CDA_RRP_MISMATCH'],
    ['relay resistance data one byte short in the signature', () => run(icDyn({ rrp: rrp.subarray(0, rrp.length - 1) }), u8(0x80), rrp), 'CDA_RRP_MISMATCH'],
    ['no relay resistance data in the signature after an exchange', () => run(icDyn(), u8(0x80), rrp), 'CDA_RRP_MISMATCH'],
    ['relay resistance data checked before the CID', () => run(icDyn({ rrp: rrpOther }), u8(0x40), rrp), 'CDA_RRP_MISMATCH'],
    ['matching relay resistance data does not hide a CID mismatch', () => run(icDyn({ rrp }), u8(0x40), rrp), 'CDA_CID_MISMATCH'],
    ['no ICC dynamic data at all', () => run(new Uint8Array(0)), 'SDAD_INVALID'],
    ['an SM2 ICC key', () => verifyCda({ algorithm: 'SM2', point: new Uint8Array(65), expiry: '1226' } as never, { sdad: new Uint8Array(0), un, cid: u8(0x80), pdolData, cdol1Data, response: [], responseBytes: new Uint8Array(0) }), 'SDAD_INVALID'],
  ];
  for (const [what, fn, want] of table) it(what, () => expect(code(fn)).toBe(want));
});

describe('raw RSA recovery (Book 2 §5.1)', () => {
  const key = { modulus: fromHex('00C5'.slice(2)), exponent: u8(3) }; // n = 197
  it('X = S^e mod n, left-padded to the modulus length', () => {
    expect(toHex(rsaRecover(key, u8(2)))).toBe('08');
    expect(toHex(rsaRecover({ modulus: fromHex('0100'), exponent: u8(3) }, fromHex('0002')))).toBe('0008');
    expect(toHex(rsaRecover({ modulus: fromHex('FFF1'), exponent: u8(1, 0, 1) }, fromHex('0003')))).toBe(((3n ** 65537n) % 0xfff1n).toString(16).toUpperCase().padStart(4, '0'));
  });
  const table: Array<[string, () => unknown, RegExp]> = [
    ['data longer than the modulus', () => rsaRecover(key, u8(0, 2)), /2 bytes for a 1-byte modulus/],
    ['data equal to the modulus', () => rsaRecover(key, u8(197)), /not smaller than the modulus/],
    ['a modulus below 3', () => rsaRecover({ modulus: u8(2), exponent: u8(3) }, u8(1)), /unusable/],
    ['exponent 0', () => rsaRecover({ modulus: u8(197), exponent: u8(0) }, u8(1)), /unusable/],
    ['an empty modulus (and data)', () => rsaRecover({ modulus: new Uint8Array(0), exponent: u8(3) }, new Uint8Array(0)), /unusable/],
  ];
  for (const [what, fn, message] of table) it(what, () => expect(fn).toThrow(message));
  it('the largest data below the modulus, and modulus 3, recover', () => {
    expect(toHex(rsaRecover(key, u8(196)))).toBe(((196n ** 3n) % 197n).toString(16).toUpperCase().padStart(2, '0'));
    expect(toHex(rsaRecover({ modulus: u8(3), exponent: u8(1) }, u8(2)))).toBe('02');
  });
});

describe('the SM2 chain (PBOC 3.0, JR/T 0025.17; formats in ree/emv/oda/sm2-certificates.ts)', () => {
  const sm2 = testSm2Pki();
  const SM_PAN = '6225881234567890';
  const STATIC_SM = fromHex('5A0862258812345678905F2403281231');
  const ca = { algorithm: 'SM2' as const, point: sm2.ca.pub };
  const issuerPub = { algorithm: 'SM2' as const, point: sm2.issuer.pub };
  const iccPub = { algorithm: 'SM2' as const, point: sm2.icc.pub };
  interface Sm2Cert { format?: number; id?: string; pan?: string; expiry?: string; alg?: number; param?: number; len?: number; signer?: Uint8Array; hashStatic?: Uint8Array }
  const fields = (o: Sm2Cert) => concat(fromHex(o.expiry ?? '1226'), fromHex('000001'), u8(o.alg ?? 4, o.param ?? 0, o.len ?? 64));
  const issuerCertSm2 = (o: Sm2Cert = {}) => {
    const signed = concat(u8(o.format ?? 0x12), fromHex(o.id ?? '6225FFFF'), fields(o), sm2.issuer.pub);
    return concat(signed, sm2Sign(o.signer ?? sm2.ca.priv, signed));
  };
  const iccCertSm2 = (o: Sm2Cert = {}) => {
    const signed = concat(u8(o.format ?? 0x14), fromHex((o.pan ?? SM_PAN).padEnd(20, 'F')), fields(o), sm2.icc.pub);
    return concat(signed, sm2Sign(o.signer ?? sm2.issuer.priv, concat(signed, o.hashStatic ?? STATIC_SM)));
  };
  const issuer = (cert = issuerCertSm2(), txn = TXN, key = ca) => recoverSm2IssuerKey(key, cert, SM_PAN, txn);
  const icc = (cert = iccCertSm2(), txn = TXN) => recoverSm2IccKey(issuerPub, cert, STATIC_SM, SM_PAN, txn);

  it('genuine certificates give the issuer key (expiry, serial) and the ICC key', () => {
    const i = issuer();
    expect([toHex(i.point), i.expiry, i.serial, i.algorithm]).toEqual([toHex(sm2.issuer.pub), '1226', '000001', 'SM2']);
    const c = icc();
    expect([toHex(c.point), c.expiry]).toEqual([toHex(sm2.icc.pub), '1226']);
  });
  const table: Array<[string, () => unknown, string]> = [
    ['issuer: one byte short', () => issuer(issuerCertSm2().subarray(1)), 'ISSUER_CERT_INVALID'],
    ['issuer: format 14 (ICC) instead of 12', () => issuer(issuerCertSm2({ format: 0x14 })), 'ISSUER_CERT_INVALID'],
    ['issuer: key algorithm 01 (RSA)', () => issuer(issuerCertSm2({ alg: 1 })), 'ISSUER_CERT_INVALID'],
    ['issuer: parameter index 01', () => issuer(issuerCertSm2({ param: 1 })), 'ISSUER_CERT_INVALID'],
    ['issuer: key length 41', () => issuer(issuerCertSm2({ len: 0x41 })), 'ISSUER_CERT_INVALID'],
    ['issuer: signed by the issuer key, not the CA', () => issuer(issuerCertSm2({ signer: sm2.issuer.priv })), 'ISSUER_CERT_INVALID'],
    ['issuer: a CA key of 65 bytes', () => issuer(issuerCertSm2(), TXN, { algorithm: 'SM2', point: concat(u8(4), sm2.ca.pub) }), 'ISSUER_CERT_INVALID'],
    ['issuer: identifier 6226 for PAN 6225…', () => issuer(issuerCertSm2({ id: '6226FFFF' })), 'ISSUER_ID_MISMATCH'],
    ['issuer: identifier padded at the front', () => issuer(issuerCertSm2({ id: 'FFFF6225' })), 'ISSUER_ID_MISMATCH'],
    ['issuer: expiring at the end of this month', () => issuer(issuerCertSm2({ expiry: '1226' })), 'ok'],
    ['issuer: expired at the end of last month', () => issuer(issuerCertSm2({ expiry: '1126' })), 'ISSUER_CERT_EXPIRED'],
    ['issuer: expiring in January next year (0127)', () => issuer(issuerCertSm2({ expiry: '0127' })), 'ok'],
    ['issuer: valid on 31 December', () => issuer(issuerCertSm2(), fromHex('261231')), 'ok'],
    ['issuer: expired on 1 January', () => issuer(issuerCertSm2(), fromHex('270101')), 'ISSUER_CERT_EXPIRED'],
    ['ICC: one byte long', () => icc(concat(iccCertSm2(), u8(0))), 'ICC_CERT_INVALID'],
    ['ICC: format 12 (issuer) instead of 14', () => icc(iccCertSm2({ format: 0x12 })), 'ICC_CERT_INVALID'],
    ['ICC: key algorithm 01', () => icc(iccCertSm2({ alg: 1 })), 'ICC_CERT_INVALID'],
    ['ICC: signed over other static data', () => icc(iccCertSm2({ hashStatic: STATIC_SM.subarray(1) })), 'ICC_CERT_INVALID'],
    ['ICC: another PAN', () => icc(iccCertSm2({ pan: '6225881234567891' })), 'ICC_PAN_MISMATCH'],
    ['ICC: a prefix of the PAN', () => icc(iccCertSm2({ pan: '622588123456789' })), 'ICC_PAN_MISMATCH'],
    ['ICC: the PAN padded at the front', () => icc(iccCertSm2({ pan: 'FFFF6225881234567890' })), 'ICC_PAN_MISMATCH'],
    ['ICC: expired at the end of last month', () => icc(iccCertSm2({ expiry: '1126' })), 'ICC_CERT_EXPIRED'],
    ['ICC: expiring at the end of this month', () => icc(iccCertSm2({ expiry: '1226' })), 'ok'],
    ['ICC: expired on 1 January', () => icc(iccCertSm2(), fromHex('270101')), 'ICC_CERT_EXPIRED'],
  ];
  for (const [what, fn, want] of table) it(what, () => expect(code(fn)).toBe(want));
  it('a signer key of the wrong size is named', () => {
    expect(() => issuer(issuerCertSm2(), TXN, { algorithm: 'SM2', point: concat(u8(4), sm2.ca.pub) })).toThrow(/signer SM2 key of 65 bytes/);
  });

  const tdd = fromHex('0102030400000000100009780100');
  const sdadSm2 = (dyn: Uint8Array, o: { format?: number; ldd?: number; over?: Uint8Array } = {}) => {
    const signed = concat(u8(o.format ?? 0x15, o.ldd ?? dyn.length), dyn);
    return concat(signed, sm2Sign(sm2.icc.priv, concat(signed, o.over ?? tdd)));
  };
  const sdadTable: Array<[string, () => unknown, string]> = [
    ['genuine', () => openSm2Sdad(iccPub, sdadSm2(fromHex('02ABCD')), tdd), 'ok'],
    ['no ICC dynamic data (66 bytes, the shortest)', () => openSm2Sdad(iccPub, sdadSm2(new Uint8Array(0)), tdd), 'ok'],
    ['65 bytes', () => openSm2Sdad(iccPub, sdadSm2(new Uint8Array(0)).subarray(1), tdd), 'SDAD_INVALID'],
    ['format 05 (RSA) instead of 15', () => openSm2Sdad(iccPub, sdadSm2(fromHex('02ABCD'), { format: 0x05 }), tdd), 'SDAD_INVALID'],
    ['LDD one more than the data', () => openSm2Sdad(iccPub, sdadSm2(fromHex('02ABCD'), { ldd: 4 }), tdd), 'SDAD_INVALID'],
    ['LDD one less than the data', () => openSm2Sdad(iccPub, sdadSm2(fromHex('02ABCD'), { ldd: 2 }), tdd), 'SDAD_INVALID'],
    ['signed over other terminal data', () => openSm2Sdad(iccPub, sdadSm2(fromHex('02ABCD'), { over: tdd.subarray(1) }), tdd), 'SDAD_INVALID'],
  ];
  for (const [what, fn, want] of sdadTable) it(`SDAD: ${what}`, () => expect(code(fn)).toBe(want));
  it('SDAD: returns the ICC dynamic data; a short one is named', () => {
    expect(toHex(openSm2Sdad(iccPub, sdadSm2(fromHex('02ABCD')), tdd))).toBe('02ABCD');
    expect(() => openSm2Sdad(iccPub, sdadSm2(new Uint8Array(0)).subarray(1), tdd)).toThrow(/SM2 SDAD of 65 bytes/);
  });
});
