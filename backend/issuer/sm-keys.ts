// The secure-messaging key chain of a CVN: issuer master key SMI / SMC → ICC master key (EMV
// Book 2 A1.4, same derivation option as the AC key) → SM session key, either Visa's from the
// ATC (session-key-visa-sm.ts) or the EMV common session key with R = ARQC (Book 2 A1.3.1,
// §9.2.2 / §9.3.2; Mastercard M/Chip, Interac, CCD). Issuer host and card simulators both use it.
import { commonSessionKey } from './session-key-common.ts';
import { visaSmSessionKey } from './session-key-visa-sm.ts';
import { pbocSm4SessionKey } from './session-key-pboc-sm4.ts';
import { cvnProfile, type CvnProfile, type SmProfile } from './cvn.ts';

export class SmProfileError extends Error {
  readonly code = 'CVN_NO_SECURE_MESSAGING';
}

export function smProfile(p: CvnProfile): SmProfile {
  if (!p.sm) throw new SmProfileError(`${p.id}: no issuer script secure messaging is defined for this cryptogram version`);
  return p.sm;
}

/** SK_SMI or SK_SMC from the matching ICC master key. */
export function smSessionKey(p: CvnProfile | string, iccMasterKeySm: Uint8Array, atc: Uint8Array, arqc: Uint8Array): Uint8Array {
  const profile = typeof p === 'string' ? cvnProfile(p) : p;
  const sm = smProfile(profile);
  switch (sm.sessionKey) {
    case 'visa_atc': return visaSmSessionKey(iccMasterKeySm, atc);
    case 'pboc_atc':
      if (profile.cipher !== 'sm4') throw new SmProfileError(`${profile.id}: the PBOC ATC secure-messaging key is defined here for SM4 cards only`);
      return pbocSm4SessionKey(iccMasterKeySm, atc);
    case 'common_arqc':
      if (arqc.length !== 8) throw new RangeError(`ARQC must be 8 bytes, got ${arqc.length}`);
      return commonSessionKey(iccMasterKeySm, arqc);
  }
}
