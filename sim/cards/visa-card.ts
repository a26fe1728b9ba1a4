// SIMULATOR ONLY. A Visa contactless card (qVSDC, Kernel 3): Visa Credit AID, PDOL with TTQ,
// cryptogram in the GPO response, IAD format 0 (length | DKI | CVN | CVR), fDDA version 01.
import { concat } from '../../common/hex.ts';
import { personalise, type CardOptions } from './personalisation.ts';
import { QuickCardSim } from './quick-card.ts';

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

  protected iad(cvr: Uint8Array): Uint8Array {
    return concat(Uint8Array.of(0x06, 0x01, this.card.cvn.cvnByte), cvr);
  }
}
