// SIMULATOR ONLY. Issuing side of SM2 offline data authentication for PBOC 3.0 cards
// (JR/T 0025.17-2013; formats in ree/emv/oda/sm2-certificates.ts): what the SM2 test CA signs
// for an issuer, what the issuer signs for a card, and the card's SM2 signature over dynamic
// data. Signatures use common/sm2.ts (GB/T 32918.2, SM3 with ZA, default user ID).
import { concat, fromHex } from '../../common/hex.ts';
import { ALG_SM2, SM2_FORMAT, SM2_PARAM_INDEX } from '../../common/emv/ca-keys.ts';
import { sm2Sign } from '../../common/sm2.ts';
import type { Sm2KeyPair } from './test-pki.ts';

const mmyy = (yymm: string) => fromHex(yymm.slice(2, 4) + yymm.slice(0, 2));
const keyFields = (pub: Uint8Array) => concat(Uint8Array.of(ALG_SM2, SM2_PARAM_INDEX, pub.length), pub);

export function sm2IssuerCertificate(ca: Sm2KeyPair, issuerPub: Uint8Array, issuerId: string, expiryYymm: string, serial = '000001'): Uint8Array {
  const signed = concat(Uint8Array.of(SM2_FORMAT.issuer), fromHex(issuerId.padEnd(8, 'F')), mmyy(expiryYymm), fromHex(serial), keyFields(issuerPub));
  return concat(signed, sm2Sign(ca.priv, signed));
}

export function sm2IccCertificate(issuer: Sm2KeyPair, iccPub: Uint8Array, pan: string, expiryYymm: string, staticData: Uint8Array, serial = '000001'): Uint8Array {
  const signed = concat(Uint8Array.of(SM2_FORMAT.icc), fromHex(pan.padEnd(20, 'F')), mmyy(expiryYymm), fromHex(serial), keyFields(iccPub));
  return concat(signed, sm2Sign(issuer.priv, concat(signed, staticData)));
}

/** Signed Dynamic Application Data, SM2 format: 15 | LDD | ICC dynamic data | r || s. */
export function sm2SignDynamicData(icc: Sm2KeyPair, iccDynamicData: Uint8Array, terminalDynamicData: Uint8Array): Uint8Array {
  const signed = concat(Uint8Array.of(SM2_FORMAT.sdad, iccDynamicData.length), iccDynamicData);
  return concat(signed, sm2Sign(icc.priv, concat(signed, terminalDynamicData)));
}
