// SIMULATOR ONLY. A Visa contactless card (qVSDC, Kernel 3): Visa Credit AID, PDOL with TTQ,
// cryptogram in the GPO response, fDDA version 01. IAD format 0 (length 06 | DKI | CVN | CVR)
// for CVN 10 and 18; format 2 (length 1F | CVN | DKI | CVR of 5 bytes | issuer discretionary
// data, 32 bytes) for VIS 1.6's CVN 22.
import { concat } from '../../common/hex.ts';
import { personalise, type CardOptions } from './personalisation.ts';
import { QuickCardSim } from './quick-card.ts';
import type { CvnProfile } from '../../backend/issuer/cvn.ts';

export const VISA_CREDIT_AID = 'A0000000031010';
const PDOL = '9F66049F02069F03069F1A0295055F2A029A039C019F3704';

export class VisaCardSim extends QuickCardSim {
  constructor(o: CardOptions = {}) {
    const card = personalise('visa', o, { pan: '4761739001010119', cvn: 'visa-18', aip: '2000' }, [
      { sfi: 1, record: 1, oda: true, entries: [['5F24', (o.expiry ?? '301231')], ['5F28', '0840'], ['9F07', 'FF00'], ['9F4A', '82']] },
    ]);
    // Visa lists no kernel identifier: Entry Point defaults to Kernel 3 by RID.
    super('Visa qVSDC (simulated)', { aid: VISA_CREDIT_AID, label: 'VISA CREDIT', priority: 1, pdol: PDOL }, card, o);
  }

  protected iad(cvr: Uint8Array, cvn: CvnProfile): Uint8Array {
    if (cvn.cvnInIad === 1) {
      // Format 2: the CVR without its length byte, widened to 5 bytes; no issuer discretionary data.
      return concat(Uint8Array.of(0x1f, cvn.cvnByte, 0x01), cvr.subarray(1), new Uint8Array(2), new Uint8Array(24));
    }
    return concat(Uint8Array.of(0x06, 0x01, cvn.cvnByte), cvr);
  }
}
