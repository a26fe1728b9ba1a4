// SIMULATOR ONLY. Card personalisation shared by the scheme simulators: the PAN and dates, the
// application keys derived from the issuer master key (EMV Book 2 A1.4), the ODA certificates,
// and the records read per AFL. Error cases are switches here.
import { concat, fromHex, toHex } from '../../common/hex.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { cvnProfile, type CvnProfile } from '../../backend/issuer/cvn.ts';
import { deriveIccMasterKey } from '../../backend/issuer/ac-keys.ts';
import { issuerCertificate, iccCertificate } from './certify.ts';
import { testPki, testSm2Pki, type Scheme, type SchemePki, type Sm2Pki } from './test-pki.ts';
import { sm2IccCertificate, sm2IssuerCertificate } from './certify-sm2.ts';

/** The test issuer master key (AC) every simulator uses unless told otherwise; the issuer
 *  host in tests holds the same value. TEST ONLY. */
export const TEST_ISSUER_MASTER_KEY_AC = fromHex('0123456789ABCDEFFEDCBA9876543210');
/** The test issuer master keys for issuer-script integrity and confidentiality (the values of
 *  pyemv's tests, as in test/vectors/published/emv-sm.json). TEST ONLY. */
export const TEST_ISSUER_MASTER_KEY_SMI = fromHex('FEDCBA98765432100123456789ABCDEF');
export const TEST_ISSUER_MASTER_KEY_SMC = fromHex('89ABCDEF0123456776543210FEDCBA98');
/** The test SM4 issuer master key (AC) of the national-algorithm (SM) cards; an issuer keeps one
 *  key per algorithm. The simulated issuer holds the same value. TEST ONLY. */
export const TEST_ISSUER_MASTER_KEY_AC_SM4 = fromHex('00112233445566778899AABBCCDDEEFF');
/** The test SM4 issuer master keys for issuer-script integrity (SMI) and confidentiality (SMC)
 *  of the SM cards, beside their SM4 AC key. The simulated issuer holds the same values. TEST ONLY. */
export const TEST_ISSUER_MASTER_KEY_SMI_SM4 = fromHex('FFEEDDCCBBAA99887766554433221100');
export const TEST_ISSUER_MASTER_KEY_SMC_SM4 = fromHex('0F1E2D3C4B5A69788796A5B4C3D2E1F0');

import type { SimulatedClock } from './sim-clock.ts';

export interface CardOptions {
  pan?: string;
  psn?: string;
  /** YYMMDD */
  expiry?: string;
  cvn?: string;
  issuerMasterKeyAc?: Uint8Array;
  issuerMasterKeySmi?: Uint8Array;
  issuerMasterKeySmc?: Uint8Array;
  /** the card's offline PIN (VERIFY, and what a PIN change replaces); default 1234 */
  offlinePin?: string;
  /** SM cards: the SM4 issuer master key their SM4 card key is derived from */
  issuerMasterKeyAcSm4?: Uint8Array;
  /** SM cards: the SM4 issuer master keys SMI / SMC their SM4 secure-messaging keys are derived from */
  issuerMasterKeySmiSm4?: Uint8Array;
  issuerMasterKeySmcSm4?: Uint8Array;
  atc?: number;
  /** application blocked: SELECT AID answers 6283 */
  blocked?: boolean;
  /** the ICC signs with a key the issuer did not certify: ODA fails at the terminal */
  odaFailure?: boolean;
  /** one byte of this certificate (issuer 90 or ICC 9F46) is changed after signing */
  tamperCertificate?: '90' | '9F46';
  /** the card leaves the field when it receives this command (INS byte), before answering */
  tearAtIns?: number;
  /** a phone wallet that has verified the cardholder on the device (CDCVM) */
  cdcvm?: boolean;
  /** a phone wallet (Mastercard: AIP "on device cardholder verification supported", PDOL with
   *  the Mobile Support Indicator); with `cdcvm` unset the cardholder has not verified yet */
  wallet?: boolean;
  /** Mastercard: the card supports the relay resistance protocol (AIP byte 2 b1) and answers
   *  EXCHANGE RELAY RESISTANCE DATA, advancing this simulated clock by the radio and processing
   *  time — plus `addedDelayUs`, what a relay between a far card and the reader adds to every
   *  exchange */
  relayResistance?: { clock: SimulatedClock; addedDelayUs?: number };
  /** the card answers SELECT for this AID instead of the one it lists (wrong AID in PPSE) */
  listWrongAid?: boolean;
  /** injectable randomness for the ICC dynamic number and card UN */
  random?: (n: number) => Uint8Array;
}

export interface Record_ { sfi: number; record: number; body: Uint8Array; oda: boolean }

export interface Personalised {
  scheme: Scheme;
  pan: string;
  psn: string;
  expiry: string;
  cvn: CvnProfile;
  iccMkAc: Uint8Array;
  /** ICC master keys for issuer-script secure messaging, where the CVN defines it */
  iccMkSmi?: Uint8Array;
  iccMkSmc?: Uint8Array;
  pki: SchemePki;
  records: Record_[];
  afl: Uint8Array;
  aip: Uint8Array;
  /** present on a PBOC "SM" card: its ODA uses the SM2 chain (CA key algorithm 04) */
  sm2?: Sm2Pki;
}

/** Track 2 equivalent: PAN D YYMM service-code discretionary, F-padded to whole bytes. */
export function track2(pan: string, expiry: string, serviceCode = '201'): Uint8Array {
  let s = `${pan}D${expiry.slice(0, 4)}${serviceCode}0000000000`;
  if (s.length % 2) s += 'F';
  return fromHex(s);
}

export function encodeRecord(entries: TlvEntry[]): Uint8Array {
  return encodeTlv([['70', entries]]);
}

/**
 * Builds the ODA records: the ICC certificate covers the static data of the records flagged
 * for ODA (SFI 1..10: the value inside tag 70) and the AIP when 9F4A lists 82.
 */
export function personalise(scheme: Scheme, o: CardOptions, defaults: { pan: string; cvn: string; aip: string; oda?: 'rsa' | 'sm2' },
  appRecords: Array<{ sfi: number; record: number; entries: TlvEntry[]; oda: boolean }>): Personalised {
  const pan = o.pan ?? defaults.pan;
  const psn = o.psn ?? '01';
  const expiry = o.expiry ?? '301231';
  const cvn = cvnProfile(o.cvn ?? defaults.cvn);
  const pki = testPki(scheme);
  const iccMkAc = deriveIccMasterKey(cvn, o.issuerMasterKeyAc ?? TEST_ISSUER_MASTER_KEY_AC, pan, psn);
  const smKeys = cvn.sm ? {
    iccMkSmi: deriveIccMasterKey(cvn, o.issuerMasterKeySmi ?? TEST_ISSUER_MASTER_KEY_SMI, pan, psn),
    iccMkSmc: deriveIccMasterKey(cvn, o.issuerMasterKeySmc ?? TEST_ISSUER_MASTER_KEY_SMC, pan, psn),
  } : {};
  const aip = fromHex(defaults.aip);

  const app = appRecords.map((r) => ({ sfi: r.sfi, record: r.record, body: encodeRecord(r.entries), oda: r.oda }));
  const staticData = concat(...app.filter((r) => r.oda).map((r) => r.body.subarray(r.body[1]! & 0x80 ? 2 + (r.body[1]! & 0x7f) : 2)), aip);
  const odaSfi = scheme === 'mastercard' ? 3 : 2;
  const tamper = (tag: '90' | '9F46', cert: Uint8Array) => {
    if (o.tamperCertificate !== tag) return cert;
    const c = cert.slice();
    c[20]! ^= 0x01;
    return c;
  };
  let odaRecords: TlvEntry[][];
  const sm2 = defaults.oda === 'sm2' ? testSm2Pki() : undefined;
  if (sm2) {
    // PBOC 3.0 SM2 chain (JR/T 0025.17): no remainders or exponents.
    const issuerCert = sm2IssuerCertificate(sm2.ca, sm2.issuer.pub, pan.slice(0, 6), '3112');
    const iccCert = sm2IccCertificate(sm2.issuer, sm2.icc.pub, pan, '3112', staticData);
    odaRecords = [[['8F', sm2.capk.index], ['90', tamper('90', issuerCert)]], [['9F46', tamper('9F46', iccCert)]]];
  } else {
    const issuerCert = issuerCertificate(pki.ca.priv, pki.ca.pub.modulus.length, pki.issuer.pub, pan.slice(0, 6), '3112');
    const iccCert = iccCertificate(pki.issuer.priv, pki.issuer.pub.modulus.length, pki.icc.pub, pan, '3112', staticData);
    odaRecords = [
      [['8F', pki.capk.index], ['90', tamper('90', issuerCert.cert)], ['9F32', issuerCert.exponent], ['92', issuerCert.remainder]],
      [['9F46', tamper('9F46', iccCert.cert)], ['9F47', iccCert.exponent], ['9F48', iccCert.remainder]],
    ];
  }
  const records: Record_[] = [
    ...app,
    ...odaRecords.map((entries, i) => ({ sfi: odaSfi, record: i + 1, oda: false, body: encodeRecord(entries) })),
  ];
  // AFL: one entry per SFI, records contiguous from 1; ODA-flagged records first in each SFI.
  const bySfi = new Map<number, Record_[]>();
  for (const r of records) bySfi.set(r.sfi, [...(bySfi.get(r.sfi) ?? []), r]);
  const afl = concat(...[...bySfi].map(([sfi, rs]) => Uint8Array.of(sfi << 3, 1, rs.length, rs.filter((r) => r.oda).length)));
  return { scheme, pan, psn, expiry, cvn, iccMkAc, ...smKeys, pki, records, afl, aip, ...(sm2 ? { sm2 } : {}) };
}

export function defaultRandom(n: number): Uint8Array {
  return new Uint8Array(globalThis.crypto.getRandomValues(new Uint8Array(n)));
}

export const hexOf = toHex;
