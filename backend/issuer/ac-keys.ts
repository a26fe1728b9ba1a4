// The AC key chain of a CVN: issuer master key → ICC master key (EMV A1.4, or its SM4 form on
// PBOC national-algorithm cards) → AC session key (per CVN). Used by the issuer host to verify
// ARQCs and by card simulators to personalise cards and compute them, so both ends derive keys
// one way.
import { iccMasterKey } from './icc-master-key.ts';
import { commonSessionKey, rFromAtc, rFromAtcUn } from './session-key-common.ts';
import { pbocSessionKey } from './session-key-pboc.ts';
import { iccMasterKeySm4 } from './icc-master-key-sm4.ts';
import { pbocSm4SessionKey } from './session-key-pboc-sm4.ts';
import type { CvnProfile } from './cvn.ts';

export function deriveIccMasterKey(p: CvnProfile, issuerMasterKey: Uint8Array, pan: string, psn = '00'): Uint8Array {
  if (p.cipher === 'sm4') return iccMasterKeySm4(issuerMasterKey, pan, psn);
  return iccMasterKey(p.masterKeyDerivation, issuerMasterKey, pan, psn);
}

export function acSessionKey(p: CvnProfile, iccMk: Uint8Array, atc: Uint8Array, un?: Uint8Array): Uint8Array {
  switch (p.sessionKey) {
    case 'none': return iccMk.slice();
    case 'common_atc': return commonSessionKey(iccMk, rFromAtc(atc));
    case 'common_atc_0000_un':
      if (!un) throw new RangeError(`${p.id}: session key needs the unpredictable number`);
      return commonSessionKey(iccMk, rFromAtcUn(atc, un));
    case 'pboc_atc': return p.cipher === 'sm4' ? pbocSm4SessionKey(iccMk, atc) : pbocSessionKey(iccMk, atc);
  }
}
