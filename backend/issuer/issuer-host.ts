// Issuer side of online authorisation: verify the ARQC a card produced and answer with an
// ARPC (EMV 4.4 Book 2 §8.1–8.2). Keys come in as issuer master keys; a deployment keeps them
// behind the HSM interface and passes them here only inside it.
import { acInput, cvnProfile, profileForIad } from './cvn.ts';
import { acSessionKey, deriveIccMasterKey } from './ac-keys.ts';
import { applicationCryptogram } from './application-cryptogram.ts';
import { arpcMethod1 } from './arpc-method-1.ts';
import { arpcMethod2 } from './arpc-method-2.ts';
import { arpcPbocSm4 } from './arpc-pboc-sm4.ts';
import { equalBytes } from './util.ts';

export interface ArqcRequest {
  cvn: string;
  issuerMasterKeyAc: Uint8Array;
  /** The SM4 issuer master key (AC) of a national-algorithm card: an issuer keeps a key per
   *  algorithm, and a cryptogram whose IAD says SM4 is checked with this one. */
  issuerMasterKeyAcSm4?: Uint8Array;
  pan: string;
  psn?: string;
  /** ICC data from the authorisation request (field 55), by tag */
  iccData: Map<string, Uint8Array>;
}

export interface ArqcResult {
  valid: boolean;
  arpc?: Uint8Array;
}

export function verifyArqc(req: ArqcRequest, arc: Uint8Array, csu: Uint8Array = new Uint8Array(4)): ArqcResult {
  // A PBOC card says in its IAD whether it computed the cryptogram with TDES or SM4.
  const p = profileForIad(cvnProfile(req.cvn), req.iccData.get('9F10'));
  const atc = req.iccData.get('9F36'), arqc = req.iccData.get('9F26');
  if (!atc || !arqc) throw new RangeError('ICC data lacks ATC (9F36) or ARQC (9F26)');
  // The card says which cryptogram version it computed; one other than the account's is not this
  // card's cryptogram (CVNs 18 and 22 compute the same AC: only this byte tells them apart).
  const iad = req.iccData.get('9F10');
  if (iad && iad[p.cvnInIad] !== p.cvnByte) return { valid: false };
  const imk = p.cipher === 'sm4' ? req.issuerMasterKeyAcSm4 : req.issuerMasterKeyAc;
  if (!imk) throw new RangeError(`${p.id}: the cryptogram is SM4 and no SM4 issuer master key was given`);
  const mk = deriveIccMasterKey(p, imk, req.pan, req.psn ?? '00');
  const sk = acSessionKey(p, mk, atc, req.iccData.get('9F37'));
  try {
    const expected = applicationCryptogram(sk, acInput(p, (t) => req.iccData.get(t)), p.padding, p.cipher);
    if (!equalBytes(expected, arqc)) return { valid: false };
    const arpc = p.cipher === 'sm4' ? arpcPbocSm4(sk, arqc, arc) : p.arpc.method === 2
      ? arpcMethod2(sk, arqc, csu)
      : arpcMethod1(p.arpc.key === 'icc_master_key' ? mk : sk, arqc, arc);
    return { valid: true, arpc };
  } finally {
    mk.fill(0); sk.fill(0);
  }
}
