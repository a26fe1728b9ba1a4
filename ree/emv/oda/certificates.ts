// Recovery of the issuer and ICC public keys (EMV 4.4 Book 2 §5.3 and §6.4 / Tables 6, 14):
// issuer PK certificate under the CA key (RID + index 8F), ICC PK certificate under the issuer
// key; each recovered block is 6A | header | key bytes | SHA-1 | BC.
import { sha1 as nobleSha1 } from '@noble/hashes/legacy.js';
import { concat, equalBytes, fromHex, toHex } from '../../../common/hex.ts';
import type { CaPublicKey, RsaPublicKey } from '../../../common/emv/ca-keys.ts';
import { rsaRecover } from './rsa.ts';

export type OdaFailure =
  | 'CAPK_MISSING' | 'ISSUER_CERT_INVALID' | 'ISSUER_ID_MISMATCH' | 'ISSUER_CERT_EXPIRED'
  | 'ICC_CERT_INVALID' | 'ICC_PAN_MISMATCH' | 'ICC_CERT_EXPIRED' | 'SDAD_INVALID' | 'DATA_MISSING'
  | 'FDDA_VERSION' | 'CDA_CID_MISMATCH' | 'CDA_HASH_MISMATCH' | 'CDA_RRP_MISMATCH';

export class OdaError extends Error {
  constructor(readonly code: OdaFailure, message: string) { super(message); this.name = 'OdaError'; }
}

const sha1 = (...parts: Uint8Array[]) => nobleSha1(concat(...parts));

/** EMV Book 2 §5.1 / Annex B2.1: a public exponent is 3 or 2^16 + 1. Any other value a card
 *  sends (up to 255 bytes) would only make the recovery slow or meaningless. */
const EXPONENTS = new Set(['03', '010001']);

/** Sign^e mod n for a key the card or the configuration gave us; a key that cannot be used
 *  (modulus or exponent out of range, data not below the modulus) fails as `code`, never as a
 *  RangeError. Short moduli are refused too: a block below 6A|hash|BC carries nothing. */
function recover(key: RsaPublicKey, data: Uint8Array, code: OdaFailure): Uint8Array {
  if (!EXPONENTS.has(toHex(key.exponent))) throw new OdaError(code, `RSA public exponent ${toHex(key.exponent) || '(empty)'} is neither 3 nor 65537`);
  if (key.modulus.length < MIN_RECOVERED || key.modulus[0] === 0) throw new OdaError(code, `RSA modulus of ${key.modulus.length} bytes cannot carry a certificate`);
  try {
    return rsaRecover(key, data);
  } catch (e) {
    if (e instanceof RangeError) throw new OdaError(code, e.message);
    throw e;
  }
}

/** 6A | format | at least the fixed header of an ICC certificate | SHA-1 (20) | BC */
const MIN_RECOVERED = 1 + 20 + 20 + 1;

/** Split a recovered certificate: checks header, trailer and hash; returns the body. */
function openCertificate(recovered: Uint8Array, format: number, hashed: (body: Uint8Array) => Uint8Array, code: OdaFailure): Uint8Array {
  const n = recovered.length;
  if (n < MIN_RECOVERED) throw new OdaError(code, `recovered data of ${n} bytes is too short`);
  if (recovered[0] !== 0x6a || recovered[n - 1] !== 0xbc || recovered[1] !== format) {
    throw new OdaError(code, `recovered data has header ${toHex(recovered.subarray(0, 2))} / trailer ${toHex(recovered.subarray(n - 1))}`);
  }
  const body = recovered.subarray(1, n - 21);
  const hash = recovered.subarray(n - 21, n - 1);
  if (!equalBytes(sha1(hashed(body)), hash)) throw new OdaError(code, 'certificate hash does not match');
  return body;
}

/** Certificates expire at the end of month MMYY; compare against the transaction date YYMMDD. */
function expired(mmyy: Uint8Array, txnDate: Uint8Array): boolean {
  const cert = toHex(mmyy.subarray(1, 2)) + toHex(mmyy.subarray(0, 1)); // YYMM
  return cert < toHex(txnDate).slice(0, 4);
}

export interface RecoveredKey extends RsaPublicKey { expiry: string; serial?: string }

export function recoverIssuerKey(ca: CaPublicKey, cert: Uint8Array, remainder: Uint8Array, exponent: Uint8Array, pan: string, txnDate: Uint8Array): RecoveredKey {
  if (cert.length !== ca.modulus.length) throw new OdaError('ISSUER_CERT_INVALID', `issuer certificate of ${cert.length} bytes for a ${ca.modulus.length}-byte CA key`);
  const body = openCertificate(recover(ca, cert, 'ISSUER_CERT_INVALID'), 0x02, (b) => concat(b, remainder, exponent), 'ISSUER_CERT_INVALID');
  // body: 02 | issuer id (4) | expiry (2) | serial (3) | hash alg | pk alg | pk len | exp len | key
  const issuerId = toHex(body.subarray(1, 5)).replace(/F+$/, '');
  if (!pan.startsWith(issuerId)) throw new OdaError('ISSUER_ID_MISMATCH', 'issuer identifier does not match the PAN');
  if (expired(body.subarray(5, 7), txnDate)) throw new OdaError('ISSUER_CERT_EXPIRED', 'issuer certificate expired');
  if (body[10] !== 0x01 || body[11] !== 0x01) throw new OdaError('ISSUER_CERT_INVALID', 'unsupported hash or key algorithm');
  const keyLen = body[12]!;
  if (body[13] !== exponent.length) throw new OdaError('ISSUER_CERT_INVALID', `issuer exponent length ${body[13]} in the certificate, ${exponent.length} in 9F32`);
  const inCert = body.subarray(14);
  const modulus = keyLen <= inCert.length ? inCert.subarray(0, keyLen) : concat(inCert, remainder);
  if (modulus.length !== keyLen) throw new OdaError('ISSUER_CERT_INVALID', 'issuer key remainder missing or of the wrong length');
  return { modulus, exponent, expiry: toHex(body.subarray(5, 7)), serial: toHex(body.subarray(7, 10)) };
}

export function recoverIccKey(issuer: RsaPublicKey, cert: Uint8Array, remainder: Uint8Array, exponent: Uint8Array, staticData: Uint8Array, pan: string, txnDate: Uint8Array): RecoveredKey {
  if (cert.length !== issuer.modulus.length) throw new OdaError('ICC_CERT_INVALID', `ICC certificate of ${cert.length} bytes for a ${issuer.modulus.length}-byte issuer key`);
  const body = openCertificate(recover(issuer, cert, 'ICC_CERT_INVALID'), 0x04, (b) => concat(b, remainder, exponent, staticData), 'ICC_CERT_INVALID');
  // body: 04 | PAN (10, F-padded) | expiry (2) | serial (3) | hash alg | pk alg | pk len | exp len | key
  if (toHex(body.subarray(1, 11)).replace(/F+$/, '') !== pan) throw new OdaError('ICC_PAN_MISMATCH', 'PAN in the ICC certificate does not match');
  if (expired(body.subarray(11, 13), txnDate)) throw new OdaError('ICC_CERT_EXPIRED', 'ICC certificate expired');
  if (body[16] !== 0x01 || body[17] !== 0x01) throw new OdaError('ICC_CERT_INVALID', 'unsupported hash or key algorithm');
  const keyLen = body[18]!;
  if (body[19] !== exponent.length) throw new OdaError('ICC_CERT_INVALID', `ICC exponent length ${body[19]} in the certificate, ${exponent.length} in 9F47`);
  const inCert = body.subarray(20);
  const modulus = keyLen <= inCert.length ? inCert.subarray(0, keyLen) : concat(inCert, remainder);
  if (modulus.length !== keyLen) throw new OdaError('ICC_CERT_INVALID', 'ICC key remainder missing or of the wrong length');
  return { modulus, exponent, expiry: toHex(body.subarray(11, 13)) };
}

/** Signed Dynamic Application Data (Book 2 Table 17): returns the ICC dynamic data once the
 *  hash over (05 | alg | LDD | data | pad) || terminal dynamic data checks out. */
export function openSdad(icc: RsaPublicKey, sdad: Uint8Array, terminalDynamicData: Uint8Array): Uint8Array {
  if (sdad.length !== icc.modulus.length) throw new OdaError('SDAD_INVALID', `SDAD of ${sdad.length} bytes for a ${icc.modulus.length}-byte ICC key`);
  const body = openCertificate(recover(icc, sdad, 'SDAD_INVALID'), 0x05, (b) => concat(b, terminalDynamicData), 'SDAD_INVALID');
  // body: 05 | hash alg | LDD | ICC dynamic data | pad
  const ldd = body[2]!;
  if (3 + ldd > body.length) throw new OdaError('SDAD_INVALID', 'ICC dynamic data length exceeds the signature');
  return body.subarray(3, 3 + ldd);
}

/** CA key checksum (Book 2 §11.2.2): SHA-1 of RID || index || modulus || exponent. */
export function capkChecksum(k: CaPublicKey): Uint8Array {
  return sha1(fromHex(k.rid, 'RID'), fromHex(k.index, 'CA key index'), k.modulus, k.exponent);
}
