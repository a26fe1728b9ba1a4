// SIMULATOR ONLY. A UnionPay QuickPass card (qPBOC, Kernel 7): UnionPay credit AID, PDOL
// required, cryptogram in the GPO response with the PBOC cryptogram version 01, fDDA version 01,
// card currency CNY (156).
import { concat } from '../../common/hex.ts';
import { personalise, TEST_ISSUER_MASTER_KEY_AC_SM4, TEST_ISSUER_MASTER_KEY_SMC_SM4, TEST_ISSUER_MASTER_KEY_SMI_SM4, type CardOptions } from './personalisation.ts';
import type { ScriptContext } from './issuer-script.ts';
import { QuickCardSim } from './quick-card.ts';
import { cvnProfile, PBOC_ALGORITHM_SM, PBOC_ALGORITHM_TDES, type CvnProfile } from '../../backend/issuer/cvn.ts';
import { deriveIccMasterKey } from '../../backend/issuer/ac-keys.ts';

export const UNIONPAY_CREDIT_AID = 'A000000333010102';
const PDOL = '9F66049F02069F03069F1A0295055F2A029A039C019F3704';

export class UnionPayCardSim extends QuickCardSim {
  constructor(o: CardOptions & { fddaVersion?: number } = {}, variant: { sm2?: boolean } = {}) {
    const card = personalise('unionpay', o, { pan: '6228480000000000017', cvn: 'unionpay-01', aip: '2000', oda: variant.sm2 ? 'sm2' : 'rsa' }, [
      { sfi: 1, record: 1, oda: true, entries: [['5F24', (o.expiry ?? '301231')], ['5F28', '0156'], ['9F07', 'FF00'], ['9F4A', '82']] },
    ]);
    super(variant.sm2 ? 'UnionPay qPBOC SM (simulated)' : 'UnionPay qPBOC (simulated)',
      { aid: UNIONPAY_CREDIT_AID, label: 'UnionPay Credit', priority: 1, kernelId: '07', pdol: variant.sm2 ? SM_PDOL : PDOL, extraFci: [['9F51', '0156']] }, card, o);
    this.cardCvmLimit = 1000_00;
    if (o.fddaVersion !== undefined) this.fddaVersion = o.fddaVersion;
  }

  /** PBOC IAD: length 07, key index 01, CVN, CVR (4), algorithm indicator (01 TDES, 04 SM). */
  protected iad(cvr: Uint8Array, cvn: CvnProfile): Uint8Array {
    return concat(Uint8Array.of(0x07, 0x01, cvn.cvnByte), cvr, Uint8Array.of(cvn.cipher === 'sm4' ? PBOC_ALGORITHM_SM : PBOC_ALGORITHM_TDES));
  }
}

/** PDOL of the SM card: the qPBOC PDOL plus DF69, the SM algorithm support indicator. */
const SM_PDOL = PDOL + 'DF6901';

/**
 * A UnionPay QuickPass "SM" card (PBOC 3.0 national algorithms, JR/T 0025.17), dual-algorithm:
 * to a reader that says it supports the SM algorithms (DF69 = 01 in the PDOL data) its ODA is
 * SM2/SM3 — issuer and ICC certificates in the SM2 format under the SM2 test CA (A000000333 /
 * F2, algorithm indicator 04), fDDA signed with SM2 — and its application cryptogram is SM4
 * (CVN 01 with algorithm indicator 04 in the IAD: backend/issuer unionpay-01-sm4, SM4 card key
 * from the issuer's SM4 master key, `issuerMasterKeyAcSm4`). To any other reader it gives the TDES cryptogram and no ODA
 * (it holds no RSA keys). An issuer script (PIN CHANGE/UNBLOCK) after an SM4 cryptogram is
 * checked with the SM4 profile: SM4 SMI / SMC card keys from the issuer's SM4 SMI / SMC master
 * keys (`issuerMasterKeySmiSm4` / `issuerMasterKeySmcSm4`), PBOC-SM4-MAC, SM4 encipherment.
 * After a TDES cryptogram it is checked as the TDES `unionpay-01`, which has no secure messaging.
 */
export class UnionPaySmCardSim extends UnionPayCardSim {
  private readonly sm4: { cvn: CvnProfile; iccMkAc: Uint8Array; iccMkSmi: Uint8Array; iccMkSmc: Uint8Array };
  /** whether the last GPO (the transaction an issuer script belongs to) used the SM4 keys */
  private transactionSm4 = false;

  constructor(o: CardOptions & { fddaVersion?: number } = {}) {
    super(o, { sm2: true });
    const cvn = cvnProfile(this.card.cvn.smAlgorithmVariant ?? 'unionpay-01-sm4');
    const { pan, psn } = this.card;
    this.sm4 = {
      cvn,
      iccMkAc: deriveIccMasterKey(cvn, o.issuerMasterKeyAcSm4 ?? TEST_ISSUER_MASTER_KEY_AC_SM4, pan, psn),
      iccMkSmi: deriveIccMasterKey(cvn, o.issuerMasterKeySmiSm4 ?? TEST_ISSUER_MASTER_KEY_SMI_SM4, pan, psn),
      iccMkSmc: deriveIccMasterKey(cvn, o.issuerMasterKeySmcSm4 ?? TEST_ISSUER_MASTER_KEY_SMC_SM4, pan, psn),
    };
  }

  private smReader(): boolean {
    return this.pdolValues.get('DF69')?.[0] === 0x01;
  }

  protected gpo(): Uint8Array {
    // The algorithm is fixed per transaction, when the cryptogram is computed; a script that
    // arrives later (after a new SELECT) is checked with the same one.
    this.transactionSm4 = this.smReader();
    return super.gpo();
  }

  protected cryptogramKeys(): { cvn: CvnProfile; iccMkAc: Uint8Array } {
    return this.smReader() ? { cvn: this.sm4.cvn, iccMkAc: this.sm4.iccMkAc } : super.cryptogramKeys();
  }

  protected scriptContext(): ScriptContext {
    return this.transactionSm4 ? { ...this.sm4, online: this.online } : super.scriptContext();
  }
}
