// Cryptogram versions: what each scheme's CVN means for key derivation, AC data, padding and
// ARPC. Card simulators and the issuer host both read this table, so a card and its issuer
// cannot disagree. Sources: Visa VIS 1.5 (CVN 10, 18) and 1.6 (CVN 22), Mastercard M/Chip 4 /
// Advance (CVN 16, 17, 20, 21), Interac (CVN 133), as pyemv (github.com/knovichikhin/pyemv,
// pyemv/cvn.py) implements them — checked against the HSM-verified chains in
// test/vectors/published/emv-arqc.json and emv-sm.json, and CVN 22 against pyemv's own
// HSM-verified test values (test/vectors/fixtures/visa-cvn22.json), except where
// `verified: false`. Which CVNs are left out and why: docs/payment-algorithms.md.
import { concat } from '../../common/hex.ts';
import type { Padding } from './ta-lib.ts';
import type { MasterKeyDerivation } from './icc-master-key.ts';

export type AcSessionKey = 'none' | 'common_atc' | 'common_atc_0000_un' | 'pboc_atc';
export type ArpcSpec = { method: 1; key: 'icc_master_key' | 'session_key' } | { method: 2 };

/** Issuer script secure messaging (EMV Book 2 §9) of a CVN. */
export interface SmProfile {
  /** 'visa_atc': Visa SM session key from the ATC (session-key-visa-sm.ts);
   *  'common_arqc': EMV common session key with R = ARQC (session-key-common.ts);
   *  'pboc_atc': the PBOC ATC diversification of the AC key, in SM4 (session-key-pboc-sm4.ts) */
  sessionKey: 'visa_atc' | 'common_arqc' | 'pboc_atc';
  /** MAC input: Visa and M/Chip put the transaction data ATC || ARQC between header and data */
  macData: 'header_atc_arqc_data' | 'header_data';
  /** command data encipherment: sm-encipherment-visa.ts, -mastercard.ts, -emv.ts or -pboc-sm4.ts */
  encipherment: 'visa' | 'mastercard' | 'emv' | 'pboc_sm4';
  /** plaintext PIN block of a PIN change without the current PIN: VIS PIN block or ISO 9564-1
   *  format 2 */
  pinBlock: 'vis' | 'iso9564_2';
  /** the PIN block of a PIN change with the current PIN (always the VIS block, which xors the
   *  current PIN in); null where the scheme's PIN change carries no current PIN */
  pinBlockWithCurrentPin: 'vis' | null;
}

const SM_VISA: SmProfile = { sessionKey: 'visa_atc', macData: 'header_atc_arqc_data', encipherment: 'visa', pinBlock: 'vis', pinBlockWithCurrentPin: 'vis' };
// VIS 1.6 CVN 22: EMV common session keys from the ARQC, Visa's MAC data and encipherment; the
// standard ISO 9564 format 2 block for a PIN change without the current PIN, the legacy VIS block
// with it.
const SM_VISA_22: SmProfile = { sessionKey: 'common_arqc', macData: 'header_atc_arqc_data', encipherment: 'visa', pinBlock: 'iso9564_2', pinBlockWithCurrentPin: 'vis' };
const SM_MCHIP: SmProfile = { sessionKey: 'common_arqc', macData: 'header_atc_arqc_data', encipherment: 'mastercard', pinBlock: 'iso9564_2', pinBlockWithCurrentPin: null };
const SM_INTERAC: SmProfile = { ...SM_MCHIP, macData: 'header_data' };
// PBOC national algorithms: SM4 session keys from the ATC, PBOC-SM4-MAC over header || ATC ||
// ARQC || data (both as in an informative worked example, ta-lib.ts sm4Mac), SM4 encipherment
// (sm-encipherment-pboc-sm4.ts: no source shows it).
const SM_PBOC_SM4: SmProfile = { sessionKey: 'pboc_atc', macData: 'header_atc_arqc_data', encipherment: 'pboc_sm4', pinBlock: 'iso9564_2', pinBlockWithCurrentPin: null };

/** The block cipher under a CVN's keys, cryptograms and MACs. */
export type BlockCipher = 'tdes' | 'sm4';

/** PBOC 3.0 IAD (9F10): length 07, key index, CVN, CVR (4), algorithm indicator — byte 8,
 *  offset 7. 01 = TDES; 04 = the national (SM) algorithms, the value PBOC gives SM2 CA keys
 *  too (informative: see docs/contactless.md). */
export const PBOC_IAD_ALGORITHM_OFFSET = 7;
export const PBOC_ALGORITHM_TDES = 0x01;
export const PBOC_ALGORITHM_SM = 0x04;

/** An AC data element: an EMV tag, or a field cut from the Issuer Application Data (9F10). */
export type AcDataItem = string | 'cvr' | 'counters';

export interface CvnProfile {
  id: string;
  /** Option A for PANs up to 16 digits; option B reduces to A there, so B is the safe default. */
  masterKeyDerivation: MasterKeyDerivation;
  sessionKey: AcSessionKey;
  padding: Padding;
  acData: AcDataItem[];
  /** where the CVR sits in 9F10 (offset, length) when acData uses 'cvr' */
  cvrInIad?: [offset: number, length: number];
  /** where the offline counters sit in 9F10 when acData uses 'counters' */
  countersInIad?: [offset: number, length: number];
  arpc: ArpcSpec;
  /** CVN byte as carried in the IAD (Visa names CVNs of IAD formats 0/1/3 by their decimal value,
   *  "CVN 18" = 0x12, and of format 2 by their hex value, "CVN 22" = 0x22) */
  cvnByte: number;
  /** where that byte sits in 9F10: Visa formats 0/1/3, Interac and PBOC after length and DKI
   *  (2); Visa format 2 after the length (1); M/Chip after the DKI (1) */
  cvnInIad: number;
  /** false when no published vector checks this profile */
  verified: boolean;
  /** issuer script secure messaging; absent where we know of no definition */
  sm?: SmProfile;
  /** absent = 'tdes' */
  cipher?: BlockCipher;
  /** PBOC: the profile a card of this CVN uses when its IAD's algorithm indicator says SM */
  smAlgorithmVariant?: string;
}

const CDOL_CORE = ['9F02', '9F03', '9F1A', '95', '5F2A', '9A', '9C', '9F37', '82', '9F36'];

export const CVN_PROFILES: Readonly<Record<string, CvnProfile>> = {
  'visa-10': { id: 'visa-10', masterKeyDerivation: 'option_a', sessionKey: 'none', padding: 'iso9797_1_method_1', acData: [...CDOL_CORE, 'cvr'], cvrInIad: [3, 4], arpc: { method: 1, key: 'icc_master_key' }, cvnByte: 0x0a, cvnInIad: 2, verified: true, sm: SM_VISA },
  'visa-18': { id: 'visa-18', masterKeyDerivation: 'option_b', sessionKey: 'common_atc', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, '9F10'], arpc: { method: 2 }, cvnByte: 0x12, cvnInIad: 2, verified: true, sm: SM_VISA },
  // VIS 1.6 CVN 22 (0x22): IAD format 2, 32 bytes: 1F || CVN || DKI || CVR (5) || issuer
  // discretionary data; the cryptogram covers the whole IAD, as CVN 18's does.
  'visa-22': { id: 'visa-22', masterKeyDerivation: 'option_b', sessionKey: 'common_atc', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, '9F10'], arpc: { method: 2 }, cvnByte: 0x22, cvnInIad: 1, verified: true, sm: SM_VISA_22 },
  'mastercard-16': { id: 'mastercard-16', masterKeyDerivation: 'option_a', sessionKey: 'common_atc_0000_un', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, 'cvr'], cvrInIad: [2, 6], arpc: { method: 1, key: 'icc_master_key' }, cvnByte: 0x10, cvnInIad: 1, verified: true, sm: SM_MCHIP },
  'mastercard-17': { id: 'mastercard-17', masterKeyDerivation: 'option_a', sessionKey: 'common_atc_0000_un', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, 'cvr', 'counters'], cvrInIad: [2, 6], countersInIad: [10, 8], arpc: { method: 1, key: 'icc_master_key' }, cvnByte: 0x11, cvnInIad: 1, verified: false, sm: SM_MCHIP },
  'mastercard-20': { id: 'mastercard-20', masterKeyDerivation: 'option_a', sessionKey: 'common_atc', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, 'cvr'], cvrInIad: [2, 6], arpc: { method: 1, key: 'session_key' }, cvnByte: 0x14, cvnInIad: 1, verified: true, sm: SM_MCHIP },
  'mastercard-21': { id: 'mastercard-21', masterKeyDerivation: 'option_a', sessionKey: 'common_atc', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, 'cvr', 'counters'], cvrInIad: [2, 6], countersInIad: [10, 8], arpc: { method: 1, key: 'session_key' }, cvnByte: 0x15, cvnInIad: 1, verified: true, sm: SM_MCHIP },
  'interac-133': { id: 'interac-133', masterKeyDerivation: 'option_a', sessionKey: 'common_atc_0000_un', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, '9F10'], arpc: { method: 1, key: 'session_key' }, cvnByte: 0x85, cvnInIad: 2, verified: true, sm: SM_INTERAC },
  // UnionPay qPBOC: PBOC 3.0 cryptogram version 01, CVR = 9F10 bytes 4..7.
  'unionpay-01': { id: 'unionpay-01', masterKeyDerivation: 'option_a', sessionKey: 'pboc_atc', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, 'cvr'], cvrInIad: [3, 4], arpc: { method: 1, key: 'session_key' }, cvnByte: 0x01, cvnInIad: 2, verified: false, smAlgorithmVariant: 'unionpay-01-sm4' },
  // The same CVN on a national-algorithm card: SM4 master key (icc-master-key-sm4.ts), SM4 session
  // key (session-key-pboc-sm4.ts), PBOC-SM4-MAC (ta/lib mac-iso9797.ts macAlg1 with SM4), SM4 ARPC (arpc-pboc-sm4.ts). The key
  // chain and the AC are checked against an informative worked example
  // (test/emv/sm4-cryptogram.test.ts); the ARPC against nothing published.
  'unionpay-01-sm4': { id: 'unionpay-01-sm4', masterKeyDerivation: 'option_a', sessionKey: 'pboc_atc', padding: 'iso9797_1_method_2', acData: [...CDOL_CORE, 'cvr'], cvrInIad: [3, 4], arpc: { method: 1, key: 'session_key' }, cvnByte: 0x01, cvnInIad: 2, verified: false, cipher: 'sm4', sm: SM_PBOC_SM4 },
};

export class CvnError extends Error {
  readonly code = 'CVN_UNKNOWN';
}

export function cvnProfile(id: string): CvnProfile {
  const p = CVN_PROFILES[id];
  if (!p) throw new CvnError(`unknown cryptogram version '${id}'`);
  return p;
}

/** The profile that applies to a cryptogram: a PBOC CVN whose IAD names the SM algorithms
 *  gives way to its SM4 variant; any other profile stands. An IAD naming an algorithm the CVN
 *  has no variant for is refused, so a card cannot pick an algorithm the issuer does not hold. */
export function profileForIad(p: CvnProfile, iad: Uint8Array | undefined): CvnProfile {
  // Only an IAD in the PBOC format (length byte 07) carries the indicator.
  if (!p.smAlgorithmVariant || !iad || iad.length <= PBOC_IAD_ALGORITHM_OFFSET || iad[0] !== 0x07) return p;
  const alg = iad[PBOC_IAD_ALGORITHM_OFFSET]!;
  if (alg === PBOC_ALGORITHM_SM) return cvnProfile(p.smAlgorithmVariant);
  if (alg === PBOC_ALGORITHM_TDES) return p;
  throw new CvnError(`${p.id}: unknown algorithm indicator ${alg.toString(16).padStart(2, '0')} in the IAD`);
}

/** Assemble the AC input from transaction/card data. `values` maps tags (and 'cvr',
 *  'counters' when given directly) to bytes; CVR and counters are otherwise cut from 9F10. */
export function acInput(p: CvnProfile, values: (item: string) => Uint8Array | undefined): Uint8Array {
  const parts = p.acData.map((item) => {
    let v = values(item);
    if (!v && (item === 'cvr' || item === 'counters')) {
      const iad = values('9F10');
      const where = item === 'cvr' ? p.cvrInIad : p.countersInIad;
      if (iad && where && iad.length >= where[0] + where[1]) v = iad.subarray(where[0], where[0] + where[1]);
    }
    if (!v) throw new RangeError(`${p.id}: AC data element ${item} missing`);
    return v;
  });
  return concat(...parts);
}
