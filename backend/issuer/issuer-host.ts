// Issuer side of online authorisation: verify the ARQC a card produced and answer with an
// ARPC (EMV 4.4 Book 2 §8.1–8.2). Keys come in as issuer master keys; a deployment keeps them
// behind the HSM interface and passes them here only inside it.
import { acInput, cvnProfile } from './cvn.ts';
import { acSessionKey, deriveIccMasterKey } from './ac-keys.ts';
import { applicationCryptogram } from './application-cryptogram.ts';
import { arpcMethod1 } from './arpc-method-1.ts';
import { arpcMethod2 } from './arpc-method-2.ts';
import { equalBytes } from './util.ts';

export interface ArqcRequest {
  cvn: string;
  issuerMasterKeyAc: Uint8Array;
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
  const p = cvnProfile(req.cvn);
  const atc = req.iccData.get('9F36'), arqc = req.iccData.get('9F26');
  if (!atc || !arqc) throw new RangeError('ICC data lacks ATC (9F36) or ARQC (9F26)');
  // The card says which cryptogram version it computed; one other than the account's is not this
  // card's cryptogram (CVNs 18 and 22 compute the same AC: only this byte tells them apart).
  const iad = req.iccData.get('9F10');
  if (iad && iad[p.cvnInIad] !== p.cvnByte) return { valid: false };
  const mk = deriveIccMasterKey(p, req.issuerMasterKeyAc, req.pan, req.psn ?? '00');
  const sk = acSessionKey(p, mk, atc, req.iccData.get('9F37'));
  try {
    const expected = applicationCryptogram(sk, acInput(p, (t) => req.iccData.get(t)), p.padding);
    if (!equalBytes(expected, arqc)) return { valid: false };
    const arpc = p.arpc.method === 2
      ? arpcMethod2(sk, arqc, csu)
      : arpcMethod1(p.arpc.key === 'icc_master_key' ? mk : sk, arqc, arc);
    return { valid: true, arpc };
  } finally {
    mk.fill(0); sk.fill(0);
  }
}
