// SIMULATOR ONLY. Card side of the "quick" contactless paths where GET PROCESSING OPTIONS
// returns the cryptogram: Visa qVSDC (Contactless Book C-3 / VCPS) and UnionPay QuickPass
// qPBOC (Book C-7 / JR/T 0025.12). The card reads TTQ, decides ARQC or AAC, the CVM (CTQ) and
// signs fDDA data when the reader supports ODA.
import { concat } from '../../common/hex.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { SW } from '../../common/emv/apdu.ts';
import { acInput, type CvnProfile } from '../../backend/issuer/cvn.ts';
import { acSessionKey } from '../../backend/issuer/ac-keys.ts';
import { applicationCryptogram } from '../../backend/issuer/application-cryptogram.ts';
import { signDynamicData } from './certify.ts';
import { sm2SignDynamicData } from './certify-sm2.ts';
import { EmvCardSim, sw } from './emv-card.ts';
import { track2 } from './personalisation.ts';

/** CTQ (9F6C) byte 1 */
export const CTQ_ONLINE_PIN = 0x80, CTQ_SIGNATURE = 0x40, CTQ_ONLINE_IF_ODA_FAILS = 0x20, CTQ_ONLINE_IF_EXPIRED = 0x08;
/** CTQ byte 2 */
export const CTQ_CDCVM_PERFORMED = 0x80;

export abstract class QuickCardSim extends EmvCardSim {
  /** card's own CVM limit in minor units of its currency (cards above it ask for a CVM) */
  cardCvmLimit = 5_000_00;
  /** fDDA version in 9F69 (K7 requires 01) */
  fddaVersion = 0x01;

  protected gpo(): Uint8Array {
    const ttq = this.pdolValues.get('9F66');
    // qVSDC/qPBOC need TTQ with "qVSDC supported" (byte 1 bit 6); otherwise this is no quick
    // transaction and a contactless-only card refuses.
    if (!ttq || !(ttq[0]! & 0x20)) return sw(SW.CONDITIONS_NOT_SATISFIED);
    const amount = this.pdolValues.get('9F02') ?? new Uint8Array(6);
    const expired = this.expired(this.pdolValues.get('9A'));

    const ctq = Uint8Array.of(CTQ_ONLINE_IF_ODA_FAILS, 0x00);
    const cvmRequired = (ttq[1]! & 0x40) !== 0 || Number(Buffer.from(amount).toString('hex')) > this.cardCvmLimit;
    if (cvmRequired) {
      if (this.options.cdcvm && ttq[2]! & 0x40) ctq[1]! |= CTQ_CDCVM_PERFORMED;
      else if (ttq[0]! & 0x04) ctq[0]! |= CTQ_ONLINE_PIN;
      else if (ttq[0]! & 0x02) ctq[0]! |= CTQ_SIGNATURE;
    }
    // Online-only readers (TTQ byte 2 bit 8) get an ARQC; an expired application declines.
    const cid = expired ? 0x00 : 0x80;
    const cvr = Uint8Array.of(0x03, cid === 0x80 ? 0xa0 : 0x80, 0x00, 0x00);
    const keys = this.cryptogramKeys();
    const iad = this.iad(cvr, keys.cvn);
    const values = new Map<string, Uint8Array>([...this.pdolValues, ['82', this.card.aip], ['9F36', this.atcBytes()], ['9F10', iad], ['cvr', cvr]]);
    const sk = acSessionKey(keys.cvn, keys.iccMkAc, this.atcBytes(), this.pdolValues.get('9F37'));
    const ac = applicationCryptogram(sk, acInput(keys.cvn, (t) => values.get(t)), keys.cvn.padding, keys.cvn.cipher);
    sk.fill(0);
    this.online = cid === 0x80 ? { atc: this.atcBytes(), arqc: ac } : null;

    const out: TlvEntry[] = [
      ['82', this.card.aip], ['94', this.card.afl], ['57', this.track2()], ['5F34', this.card.psn],
      ['9F10', iad], ['9F26', ac], ['9F27', Uint8Array.of(cid)], ['9F36', this.atcBytes()], ['9F6C', ctq],
    ];
    // fDDA (Book C-3 §5.3): signed when approved/online and the reader does ODA (TTQ b1 bit 1).
    // An SM card (PBOC 3.0 national algorithms) signs with SM2, and only for a reader that says
    // it supports the SM algorithms (DF69 = 01 in the PDOL data); it holds no RSA keys.
    const sm2 = this.card.sm2;
    const smReader = this.pdolValues.get('DF69')?.[0] === 0x01;
    if (cid !== 0x00 && ttq[0]! & 0x01 && (!sm2 || smReader)) {
      const card9f69 = concat(Uint8Array.of(this.fddaVersion), this.random(4), ctq);
      const idn = this.random(8);
      const tdd = concat(this.pdolValues.get('9F37') ?? new Uint8Array(4), amount, this.pdolValues.get('5F2A') ?? new Uint8Array(2), card9f69);
      const iccDyn = concat(Uint8Array.of(idn.length), idn);
      const sdad = sm2 ? sm2SignDynamicData(sm2.icc, iccDyn, tdd)
        : signDynamicData(this.card.pki.icc.priv, this.card.pki.icc.pub.modulus.length, iccDyn, tdd);
      if (this.options.odaFailure) sdad[sdad.length - 1]! ^= 0x01;
      out.push(['9F4B', sdad], ['9F69', card9f69]);
    }
    return sw(SW.OK, encodeTlv([['77', out]]));
  }

  protected track2(): Uint8Array {
    return track2(this.card.pan, this.card.expiry);
  }

  /** The cryptogram version and ICC master key AC this transaction uses (a dual-algorithm card
   *  chooses by what the reader supports). */
  protected cryptogramKeys(): { cvn: CvnProfile; iccMkAc: Uint8Array } {
    return { cvn: this.card.cvn, iccMkAc: this.card.iccMkAc };
  }

  protected abstract iad(cvr: Uint8Array, cvn: CvnProfile): Uint8Array;
}
