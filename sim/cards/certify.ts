// SIMULATOR ONLY. Issuing side of EMV ODA (EMV 4.4 Book 2 Tables 6, 14, 17): what a CA signs
// for an issuer, what an issuer signs for a card at personalisation, and the card's signature
// over dynamic data. The terminal side lives in ree/emv/oda/.
import { createHash } from 'node:crypto';
import { concat, fromHex } from '../../common/hex.ts';
import type { RsaPublicKey } from '../../common/emv/ca-keys.ts';
import { rsaSign } from './test-pki.ts';
import type { KeyObject } from 'node:crypto';

const sha1 = (d: Uint8Array) => new Uint8Array(createHash('sha1').update(d).digest());

export interface Certificate { cert: Uint8Array; remainder: Uint8Array; exponent: Uint8Array }

/** 6A | body | SHA-1(body || extra) | BC, signed; the key field is padded with BB. */
function sign(signer: KeyObject, signerLen: number, header: Uint8Array, key: Uint8Array, extra: Uint8Array): { cert: Uint8Array; remainder: Uint8Array } {
  const room = signerLen - header.length - 22;
  const inCert = new Uint8Array(room).fill(0xbb);
  inCert.set(key.subarray(0, Math.min(room, key.length)));
  const remainder = key.length > room ? key.subarray(room) : new Uint8Array(0);
  const body = concat(header, inCert);
  const block = concat(Uint8Array.of(0x6a), body, sha1(concat(body, remainder, extra)), Uint8Array.of(0xbc));
  return { cert: rsaSign(signer, block), remainder };
}

/** MMYY as 2 bytes of BCD, from 'YYMM'. */
const mmyy = (yymm: string) => fromHex(yymm.slice(2, 4) + yymm.slice(0, 2));

export function issuerCertificate(ca: KeyObject, caLen: number, issuer: RsaPublicKey, issuerId: string, expiryYymm: string, serial = '000001'): Certificate {
  const header = concat(Uint8Array.of(0x02), fromHex(issuerId.padEnd(8, 'F')), mmyy(expiryYymm), fromHex(serial),
    Uint8Array.of(0x01, 0x01, issuer.modulus.length, issuer.exponent.length));
  return { ...sign(ca, caLen, header, issuer.modulus, issuer.exponent), exponent: issuer.exponent };
}

export function iccCertificate(issuer: KeyObject, issuerLen: number, icc: RsaPublicKey, pan: string, expiryYymm: string, staticData: Uint8Array, serial = '000001'): Certificate {
  const header = concat(Uint8Array.of(0x04), fromHex(pan.padEnd(20, 'F')), mmyy(expiryYymm), fromHex(serial),
    Uint8Array.of(0x01, 0x01, icc.modulus.length, icc.exponent.length));
  return { ...sign(issuer, issuerLen, header, icc.modulus, concat(icc.exponent, staticData)), exponent: icc.exponent };
}

/** Signed Dynamic Application Data (fDDA and CDA): 05 | 01 | LDD | ICC dynamic data | BB.. */
export function signDynamicData(icc: KeyObject, iccLen: number, iccDynamicData: Uint8Array, terminalDynamicData: Uint8Array): Uint8Array {
  const header = concat(Uint8Array.of(0x05, 0x01, iccDynamicData.length), iccDynamicData);
  const room = iccLen - header.length - 22;
  if (room < 0) throw new RangeError('ICC dynamic data too long for the ICC key');
  const body = concat(header, new Uint8Array(room).fill(0xbb));
  return rsaSign(icc, concat(Uint8Array.of(0x6a), body, sha1(concat(body, terminalDynamicData)), Uint8Array.of(0xbc)));
}
