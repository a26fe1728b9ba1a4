// SIMULATOR ONLY. A UnionPay QuickPass card (qPBOC, Kernel 7): UnionPay credit AID, PDOL
// required, cryptogram in the GPO response with the PBOC cryptogram version 01, fDDA version 01,
// card currency CNY (156).
import { concat } from '../../common/hex.ts';
import { personalise, type CardOptions } from './personalisation.ts';
import { QuickCardSim } from './quick-card.ts';

export const UNIONPAY_CREDIT_AID = 'A000000333010102';
const PDOL = '9F66049F02069F03069F1A0295055F2A029A039C019F3704';

export class UnionPayCardSim extends QuickCardSim {
  constructor(o: CardOptions & { fddaVersion?: number } = {}, variant: { sm2?: boolean } = {}) {
    const card = personalise('unionpay', o, { pan: '6228480000000000017', cvn: 'unionpay-01', aip: '2000', oda: variant.sm2 ? 'sm2' : 'rsa' }, [
      { sfi: 1, record: 1, oda: true, entries: [['5F24', (o.expiry ?? '301231')], ['5F28', '0156'], ['9F07', 'FF00'], ['9F4A', '82']] },
    ]);
    super(variant.sm2 ? 'UnionPay qPBOC SM2 (simulated)' : 'UnionPay qPBOC (simulated)',
      { aid: UNIONPAY_CREDIT_AID, label: 'UnionPay Credit', priority: 1, kernelId: '07', pdol: variant.sm2 ? SM_PDOL : PDOL, extraFci: [['9F51', '0156']] }, card, o);
    this.cardCvmLimit = 1000_00;
    if (o.fddaVersion !== undefined) this.fddaVersion = o.fddaVersion;
  }

  protected iad(cvr: Uint8Array): Uint8Array {
    return concat(Uint8Array.of(0x07, 0x01, this.card.cvn.cvnByte), cvr, Uint8Array.of(0x01));
  }
}

/** PDOL of the SM card: the qPBOC PDOL plus DF69, the SM algorithm support indicator. */
const SM_PDOL = PDOL + 'DF6901';

/**
 * A UnionPay QuickPass "SM" card (PBOC 3.0 national algorithms, JR/T 0025.17): same qPBOC
 * flow, but its ODA chain is SM2/SM3 — issuer and ICC public key certificates in the SM2
 * format under the SM2 test CA (A000000333 / F2, algorithm indicator 04) and fDDA signed with
 * SM2. The cryptogram stays the TDES PBOC one (unionpay-01): the SM4 cryptogram is not simulated.
 */
export class UnionPaySmCardSim extends UnionPayCardSim {
  constructor(o: CardOptions & { fddaVersion?: number } = {}) {
    super(o, { sm2: true });
  }
}
