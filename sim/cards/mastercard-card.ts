// SIMULATOR ONLY. A Mastercard contactless card (PayPass M/Chip, Kernel 2): no PDOL, GPO
// returns AIP + AFL only, records carry CDOL1 and the CVM list, GENERATE AC returns the
// cryptogram — inside a CDA signature when the reader asks for CDA (Book C-2 §5; Book 2 §6.6).
import { createHash } from 'node:crypto';
import { concat } from '../../common/hex.ts';
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { SW } from '../../common/emv/apdu.ts';
import { acInput } from '../../backend/issuer/cvn.ts';
import { acSessionKey } from '../../backend/issuer/ac-keys.ts';
import { applicationCryptogram } from '../../backend/issuer/application-cryptogram.ts';
import { signDynamicData } from './certify.ts';
import { EmvCardSim, sw } from './emv-card.ts';
import { personalise, track2, type CardOptions } from './personalisation.ts';

export const MASTERCARD_AID = 'A0000000041010';
export const MC_CDOL1 = '9F02069F03069F1A0295055F2A029A039C019F37049F35019F3403';
/** CVM list: X = Y = 0; online PIN if the terminal supports it (continue on failure), else no CVM. */
export const MC_CVM_LIST = '00000000000000004203' + '1F03';
/** A wallet's PDOL: the Mobile Support Indicator (9F7E). */
const WALLET_PDOL = '9F7E01';
/** POS Cardholder Interaction Information (DF4B) byte 2: OD-CVM verification successful;
 *  PIN (device passcode / biometric) required on the phone. */
const PCII_OD_CVM_OK = 0x10, PCII_PIN_REQUIRED = 0x01;

/** The simulated card's relay resistance timing, units of 100 µs (Book C-2 DF8303..DF8305), and
 *  what an exchange physically takes here: C-APDU on the air, the card's processing, R-APDU. */
export const RRP_CARD_TIMING = { minTime: 10, maxTime: 30, deviceTransmissionRapdu: 24, capduAir: 18, processing: 15, rapduAir: 24 } as const;

export class MastercardCardSim extends EmvCardSim {
  constructor(o: CardOptions = {}) {
    const expiry = o.expiry ?? '301231';
    const pan = o.pan ?? '5413330089010434';
    const wallet = !!(o.wallet || o.cdcvm);
    // AIP byte 1 b2 "on device cardholder verification supported" for phone wallets; byte 2 b1
    // "relay resistance protocol supported".
    const aip = (wallet ? '3B' : '39') + (o.relayResistance ? '81' : '80');
    const card = personalise('mastercard', o, { pan, cvn: 'mastercard-16', aip }, [
      { sfi: 1, record: 1, oda: false, entries: [['57', track2(pan, expiry)], ['5F20', Buffer.from('TEST/CARDHOLDER').toString('hex')]] },
      { sfi: 2, record: 1, oda: true, entries: [
        ['5A', pan.length % 2 ? pan + 'F' : pan], ['5F24', expiry], ['5F25', '200101'], ['5F28', '0056'], ['5F34', o.psn ?? '01'],
        ['8C', MC_CDOL1], ['8E', MC_CVM_LIST], ['9F07', 'FF00'], ['9F0D', 'B450840000'], ['9F0E', '0000000000'], ['9F0F', 'B470848000'], ['9F4A', '82'],
      ] },
    ]);
    super(wallet ? 'Mastercard phone wallet (simulated)' : 'Mastercard M/Chip (simulated)',
      { aid: MASTERCARD_AID, label: 'MASTERCARD', priority: 1, kernelId: '02', ...(wallet ? { pdol: WALLET_PDOL } : {}) }, card, o);
  }

  /** The wallet's holder verified on the phone (a wallet built with `cdcvm`, or after "See Phone"). */
  private verified = !!this.options.cdcvm;
  /** Terminal entropy || the card's answer of this tap's EXCHANGE RELAY RESISTANCE DATA */
  private rrData: Uint8Array | null = null;

  /** The cardholder unlocks the wallet on the phone (passcode, biometric) between two taps. */
  verifyOnDevice(): void {
    this.verified = true;
  }

  /** A relay (addedDelayUs) delays every exchange, not only the timed one. */
  override process(apdu: Uint8Array): Uint8Array {
    const rr = this.options.relayResistance;
    const r = super.process(apdu);
    if (rr?.addedDelayUs && apdu[1] !== 0xea) rr.clock.advance(rr.addedDelayUs);
    return r;
  }

  override tap(): void {
    super.tap();
    this.rrData = null;
  }

  /** EXCHANGE RELAY RESISTANCE DATA (Book C-2 §5.3): 80 EA 00 00 04 entropy 00 → template 80 with
   *  device entropy, min / max processing time and the R-APDU transmission time. */
  protected override exchangeRelayResistanceData(p1: number, p2: number, data: Uint8Array): Uint8Array {
    const rr = this.options.relayResistance;
    if (!rr || !(this.card.aip[1]! & 0x01)) return sw(SW.INS_NOT_SUPPORTED);
    if (p1 !== 0 || p2 !== 0) return sw(SW.WRONG_P1P2);
    if (data.length !== 4) return sw(SW.WRONG_LENGTH);
    const t = RRP_CARD_TIMING;
    const u16 = (n: number) => [n >> 8, n & 0xff];
    const body = concat(this.random(4), Uint8Array.of(...u16(t.minTime), ...u16(t.maxTime), ...u16(t.deviceTransmissionRapdu)));
    this.rrData = concat(data, body);
    rr.clock.advance((t.capduAir + t.processing + t.rapduAir) * 100 + (rr.addedDelayUs ?? 0));
    return sw(SW.OK, concat(Uint8Array.of(0x80, 0x0a), body));
  }

  protected gpo(): Uint8Array {
    return sw(SW.OK, encodeTlv([['77', [['82', this.card.aip], ['94', this.card.afl]]]]));
  }

  protected override generateAc(p1: number, data: Uint8Array): Uint8Array {
    if (data.length !== 29 + 1 + 3) return sw(SW.WRONG_LENGTH);
    const f = (o: number, n: number) => data.subarray(o, o + n);
    const v = new Map<string, Uint8Array>([
      ['9F02', f(0, 6)], ['9F03', f(6, 6)], ['9F1A', f(12, 2)], ['95', f(14, 5)], ['5F2A', f(19, 2)],
      ['9A', f(21, 3)], ['9C', f(24, 1)], ['9F37', f(25, 4)], ['82', this.card.aip], ['9F36', this.atcBytes()],
    ]);
    // Card risk management kept simple: the card grants at most an ARQC; AAC when asked for it.
    const requested = p1 & 0xc0;
    // A wallet: the reader asks for OD-CVM (Mobile Support Indicator b2, or CVM Results
    // "CDCVM"); one whose cardholder has not verified on the phone declines and says so.
    const wallet = this.app.pdol === WALLET_PDOL;
    const odCvmRequired = wallet && ((this.pdolValues.get('9F7E')?.[0] ?? 0) & 0x02 || data[29] === 0x01);
    const pcii = wallet ? Uint8Array.of(0x00, this.verified ? PCII_OD_CVM_OK : odCvmRequired ? PCII_PIN_REQUIRED : 0x00, 0x00) : undefined;
    const cid = requested === 0x00 || (odCvmRequired && !this.verified) ? 0x00 : 0x80;
    const cvr = Uint8Array.of(cid === 0x80 ? 0xa0 : 0x80, 0x00, 0x03, 0x22, 0x00, 0x00);
    v.set('cvr', cvr);
    const iad = concat(Uint8Array.of(0x01, this.card.cvn.cvnByte), cvr, new Uint8Array(10), Uint8Array.of(0x00, 0xff));
    v.set('9F10', iad); // CVN 17/21 take the offline counters from the IAD
    const sk = acSessionKey(this.card.cvn, this.card.iccMkAc, this.atcBytes(), v.get('9F37'));
    const ac = applicationCryptogram(sk, acInput(this.card.cvn, (t) => v.get(t)), this.card.cvn.padding);
    sk.fill(0);
    this.online = cid === 0x80 ? { atc: this.atcBytes(), arqc: ac } : null;
    const cdaRequested = (p1 & 0x10) !== 0 && (this.card.aip[0]! & 0x01) !== 0 && cid !== 0x00;
    const pciiTlv: TlvEntry[] = pcii ? [['DF4B', pcii]] : [];
    if (!cdaRequested) {
      return sw(SW.OK, encodeTlv([['77', [['9F27', Uint8Array.of(cid)], ['9F36', this.atcBytes()], ['9F26', ac], ['9F10', iad], ...pciiTlv]]]));
    }
    // CDA: the AC travels inside the signature with a hash over PDOL data, CDOL1 data and the
    // response's other objects (Book 2 §6.6.1).
    const rest: TlvEntry[] = [['9F27', Uint8Array.of(cid)], ['9F36', this.atcBytes()], ['9F10', iad], ...pciiTlv];
    const tdhc = new Uint8Array(createHash('sha1').update(concat(this.pdolData, data, encodeTlv(rest))).digest());
    const idn = this.random(8);
    // After relay resistance the card signs its exchange too (Book C-2 ICC Dynamic Data).
    const dyn = concat(Uint8Array.of(idn.length), idn, Uint8Array.of(cid), ac, tdhc, ...(this.rrData ? [this.rrData] : []));
    const sdad = signDynamicData(this.card.pki.icc.priv, this.card.pki.icc.pub.modulus.length, dyn, v.get('9F37')!);
    if (this.options.odaFailure) sdad[sdad.length - 1]! ^= 0x01;
    return sw(SW.OK, encodeTlv([['77', [...rest, ['9F4B', sdad]]]]));
  }
}
