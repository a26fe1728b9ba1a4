// SM2/SM3 offline data authentication of PBOC 3.0 cards: JR/T 0025.17-2013 (China Financial
// Integrated Circuit Card Specifications, Part 17: Security Enhancement of the Debit/Credit
// Application — the "SM" / national-algorithm option of PBOC 3.0 and UnionPay QuickPass).
// Unlike the RSA formats of EMV Book 2 there is no message recovery: each certificate is the
// signed data in clear followed by a 64-byte SM2 signature r || s (GB/T 32918.2, SM3 with ZA,
// default user ID "1234567812345678"); public keys are the 64-byte point x || y.
//
//   Issuer PK certificate (90):  12 | issuer id (4, F-padded) | expiry MMYY (2) | serial (3) |
//                                04 (SM2) | parameter index (1) | key length 40 | key (64) | sig (64)
//     signed over everything before the signature, by the CA key (RID + 8F).
//   ICC PK certificate (9F46):   14 | PAN (10, F-padded) | expiry (2) | serial (3) | 04 | param |
//                                40 | key (64) | sig (64)
//     signed over everything before the signature || static data to be authenticated.
//   Signed Dynamic Application Data (9F4B): 15 | LDD | ICC dynamic data | sig (64)
//     signed over everything before the signature || terminal dynamic data.
// No 92 / 9F32 / 9F47 / 9F48 (no remainders, no exponents). The byte layouts above follow the
// structure of Part 17 as described in public material; they were NOT checked against the text
// of the standard or a real SM card here (docs/contactless.md, "Not checked").
import { concat, toHex } from '../../../common/hex.ts';
import { OdaError, type OdaFailure } from './certificates.ts';
import { sm2Verify } from '../../../common/sm2.ts';
import { ALG_SM2, SM2_FORMAT, SM2_PARAM_INDEX } from '../../../common/emv/ca-keys.ts';

export interface Sm2PublicKey { algorithm: 'SM2'; /** x || y, 64 bytes */ point: Uint8Array }
export interface RecoveredSm2Key extends Sm2PublicKey { expiry: string; serial?: string }

/** 04 || x || y, the uncompressed form sm2Verify takes. */
const uncompressed = (k: Sm2PublicKey) => concat(Uint8Array.of(0x04), k.point);

function verify(signer: Sm2PublicKey, signed: Uint8Array, sig: Uint8Array, code: OdaFailure, what: string): void {
  if (signer.point.length !== 64) throw new OdaError(code, `${what}: signer SM2 key of ${signer.point.length} bytes`);
  if (!sm2Verify(uncompressed(signer), signed, sig)) throw new OdaError(code, `${what}: SM2 signature does not verify`);
}

/** MMYY expiry against YYMMDD transaction date: valid through the end of the month. */
function expired(mmyy: Uint8Array, txnDate: Uint8Array): boolean {
  return toHex(mmyy.subarray(1, 2)) + toHex(mmyy.subarray(0, 1)) < toHex(txnDate).slice(0, 4);
}

/** header | key (64) | sig (64); returns the signed part and the key after format checks. */
function split(cert: Uint8Array, format: number, headerLen: number, code: OdaFailure): { signed: Uint8Array; key: Uint8Array; sig: Uint8Array } {
  if (cert.length !== headerLen + 64 + 64) throw new OdaError(code, `SM2 certificate of ${cert.length} bytes, expected ${headerLen + 128}`);
  if (cert[0] !== format) throw new OdaError(code, `certificate format ${toHex(cert.subarray(0, 1))}, expected ${format.toString(16)}`);
  const alg = cert[headerLen - 3], param = cert[headerLen - 2], len = cert[headerLen - 1];
  if (alg !== ALG_SM2 || param !== SM2_PARAM_INDEX || len !== 64) throw new OdaError(code, `unsupported SM2 key: algorithm ${alg}, parameter index ${param}, length ${len}`);
  return { signed: cert.subarray(0, headerLen + 64), key: cert.slice(headerLen, headerLen + 64), sig: cert.subarray(headerLen + 64) };
}

export function recoverSm2IssuerKey(ca: Sm2PublicKey, cert: Uint8Array, pan: string, txnDate: Uint8Array): RecoveredSm2Key {
  const { signed, key, sig } = split(cert, SM2_FORMAT.issuer, 1 + 4 + 2 + 3 + 3, 'ISSUER_CERT_INVALID');
  verify(ca, signed, sig, 'ISSUER_CERT_INVALID', 'issuer certificate');
  const issuerId = toHex(cert.subarray(1, 5)).replace(/F+$/, '');
  if (!pan.startsWith(issuerId)) throw new OdaError('ISSUER_ID_MISMATCH', 'issuer identifier does not match the PAN');
  if (expired(cert.subarray(5, 7), txnDate)) throw new OdaError('ISSUER_CERT_EXPIRED', 'issuer certificate expired');
  return { algorithm: 'SM2', point: key, expiry: toHex(cert.subarray(5, 7)), serial: toHex(cert.subarray(7, 10)) };
}

export function recoverSm2IccKey(issuer: Sm2PublicKey, cert: Uint8Array, staticData: Uint8Array, pan: string, txnDate: Uint8Array): RecoveredSm2Key {
  const { signed, key, sig } = split(cert, SM2_FORMAT.icc, 1 + 10 + 2 + 3 + 3, 'ICC_CERT_INVALID');
  verify(issuer, concat(signed, staticData), sig, 'ICC_CERT_INVALID', 'ICC certificate');
  if (toHex(cert.subarray(1, 11)).replace(/F+$/, '') !== pan) throw new OdaError('ICC_PAN_MISMATCH', 'PAN in the ICC certificate does not match');
  if (expired(cert.subarray(11, 13), txnDate)) throw new OdaError('ICC_CERT_EXPIRED', 'ICC certificate expired');
  return { algorithm: 'SM2', point: key, expiry: toHex(cert.subarray(11, 13)) };
}

/** Signed Dynamic Application Data in the SM2 format: returns the ICC dynamic data. */
export function openSm2Sdad(icc: Sm2PublicKey, sdad: Uint8Array, terminalDynamicData: Uint8Array): Uint8Array {
  if (sdad.length < 2 + 64 || sdad[0] !== SM2_FORMAT.sdad) throw new OdaError('SDAD_INVALID', `SM2 SDAD of ${sdad.length} bytes / format ${toHex(sdad.subarray(0, 1))}`);
  const ldd = sdad[1]!;
  if (sdad.length !== 2 + ldd + 64) throw new OdaError('SDAD_INVALID', 'SM2 SDAD length does not match its ICC dynamic data length');
  verify(icc, concat(sdad.subarray(0, 2 + ldd), terminalDynamicData), sdad.subarray(2 + ldd), 'SDAD_INVALID', 'signed dynamic data');
  return sdad.slice(2, 2 + ldd);
}

export const isSm2Key = (k: object): k is Sm2PublicKey => (k as Partial<Sm2PublicKey>).algorithm === 'SM2';
