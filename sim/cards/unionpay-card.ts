// SIMULATOR ONLY. A UnionPay QuickPass card (qPBOC, Kernel 7): UnionPay credit AID, PDOL
// required, cryptogram in the GPO response with the PBOC cryptogram version 01, fDDA version 01,
// card currency CNY (156).
import { concat } from '../../ree/emv/hex.ts';
import { personalise, type CardOptions } from './personalisation.ts';
import { QuickCardSim } from './quick-card.ts';

export const UNIONPAY_CREDIT_AID = 'A000000333010102';
const PDOL = '9F66049F02069F03069F1A0295055F2A029A039C019F3704';

export class UnionPayCardSim extends QuickCardSim {
  constructor(o: CardOptions & { fddaVersion?: number } = {}) {
    const card = personalise('unionpay', o, { pan: '6228480000000000017', cvn: 'unionpay-01', aip: '2000' }, [
      { sfi: 1, record: 1, oda: true, entries: [['5F24', (o.expiry ?? '301231')], ['5F28', '0156'], ['9F07', 'FF00'], ['9F4A', '82']] },
    ]);
    super('UnionPay qPBOC (simulated)', { aid: UNIONPAY_CREDIT_AID, label: 'UnionPay Credit', priority: 1, kernelId: '07', pdol: PDOL, extraFci: [['9F51', '0156']] }, card, o);
    this.cardCvmLimit = 1000_00;
    if (o.fddaVersion !== undefined) this.fddaVersion = o.fddaVersion;
  }

  protected iad(cvr: Uint8Array): Uint8Array {
    return concat(Uint8Array.of(0x07, 0x01, this.card.cvn.cvnByte), cvr, Uint8Array.of(0x01));
  }
}
