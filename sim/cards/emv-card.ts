// SIMULATOR ONLY. The APDU front of a simulated contactless EMV card (EMV Book 1 §11,
// Book 3 §6.5; Contactless Book B §3): SELECT of the PPSE and of the application, READ RECORD
// per AFL, status words for what a card refuses, and the issuer scripts of PIN CHANGE/UNBLOCK
// with a plaintext VERIFY to check them (issuer-script.ts). Schemes add GPO and GENERATE AC.
import { concat, equalBytes, fromHex } from '../../common/hex.ts';
import { PPSE_NAME, SW } from '../../common/emv/apdu.ts';
import { decodeTlv, encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import { parseDol } from '../../common/emv/dol.ts';
import { CardTornError, CONTACTLESS_ATR, type SimulatedCard } from './card.ts';
import { defaultRandom, type CardOptions, type Personalised } from './personalisation.ts';
import { OfflinePin, pinChangeUnblock, verifyPlaintextPin, type ScriptContext } from './issuer-script.ts';

export const sw = (code: number, data: Uint8Array = new Uint8Array(0)): Uint8Array => concat(data, Uint8Array.of(code >> 8, code & 0xff));

export interface AppDefinition {
  aid: string;
  label: string;
  priority: number;
  /** kernel identifier listed in the PPSE entry (9F2A); omitted → default kernel by RID */
  kernelId?: string;
  /** PDOL (9F38) in the application FCI; omitted → card has none */
  pdol?: string;
  extraFci?: TlvEntry[];
}

export abstract class EmvCardSim implements SimulatedCard {
  readonly atr = CONTACTLESS_ATR;
  inField = true;
  atc: number;
  protected selected: 'none' | 'ppse' | 'app' = 'none';
  protected readonly random: (n: number) => Uint8Array;
  /** data of the GPO command as the card split it by its PDOL, by tag */
  protected pdolValues = new Map<string, Uint8Array>();
  protected pdolData = new Uint8Array(0);
  /** ATC and ARQC of the last online request: the transaction an issuer script belongs to */
  protected online: { atc: Uint8Array; arqc: Uint8Array } | null = null;
  protected readonly offlinePin: OfflinePin;

  constructor(readonly name: string, readonly app: AppDefinition, readonly card: Personalised, readonly options: CardOptions) {
    this.atc = options.atc ?? 1;
    this.random = options.random ?? defaultRandom;
    this.offlinePin = new OfflinePin(options.offlinePin ?? '1234');
  }

  tap(): void {
    this.inField = true;
    this.selected = 'none';
    this.pdolValues = new Map();
  }

  process(apdu: Uint8Array): Uint8Array {
    if (!this.inField) throw new CardTornError();
    if (apdu.length < 4) return sw(SW.WRONG_LENGTH);
    const [cla, ins, p1, p2] = [apdu[0]!, apdu[1]!, apdu[2]!, apdu[3]!];
    if (this.options.tearAtIns === ins) {
      this.inField = false;
      throw new CardTornError();
    }
    const lc = apdu.length > 5 ? apdu[4]! : 0;
    if (apdu.length > 5 && apdu.length !== 5 + lc && apdu.length !== 6 + lc) return sw(SW.WRONG_LENGTH);
    const data = apdu.subarray(5, 5 + lc);
    switch (ins) {
      case 0xa4: return cla === 0x00 ? this.select(p1, p2, data) : sw(SW.CLA_NOT_SUPPORTED);
      case 0xb2: return cla === 0x00 ? this.readRecord(p1, p2) : sw(SW.CLA_NOT_SUPPORTED);
      case 0xa8:
        if (cla !== 0x80) return sw(SW.CLA_NOT_SUPPORTED);
        if (this.selected !== 'app') return sw(SW.CONDITIONS_NOT_SATISFIED);
        return this.gpoCommand(data);
      case 0xae:
        if (cla !== 0x80) return sw(SW.CLA_NOT_SUPPORTED);
        if (this.selected !== 'app') return sw(SW.CONDITIONS_NOT_SATISFIED);
        return this.generateAc(p1, data);
      case 0xea:
        if (cla !== 0x80) return sw(SW.CLA_NOT_SUPPORTED);
        if (this.selected !== 'app') return sw(SW.CONDITIONS_NOT_SATISFIED);
        return this.exchangeRelayResistanceData(p1, p2, data);
      case 0x24:
        if (cla !== 0x84) return sw(SW.CLA_NOT_SUPPORTED);
        if (this.selected !== 'app') return sw(SW.CONDITIONS_NOT_SATISFIED);
        return pinChangeUnblock(this.scriptContext(), this.offlinePin, apdu);
      case 0x20:
        if (cla !== 0x00) return sw(SW.CLA_NOT_SUPPORTED);
        if (this.selected !== 'app') return sw(SW.CONDITIONS_NOT_SATISFIED);
        return verifyPlaintextPin(this.offlinePin, apdu);
      default: return sw(SW.INS_NOT_SUPPORTED);
    }
  }

  /** AID as listed in the PPSE (differs from the real one in the wrong-AID error case). */
  listedAid(): string {
    return this.options.listWrongAid ? 'A0000009999999' : this.app.aid;
  }

  private select(p1: number, p2: number, name: Uint8Array): Uint8Array {
    if (p1 !== 0x04 || (p2 & 0xf3) !== 0x00) return sw(SW.WRONG_P1P2);
    if (equalBytes(name, PPSE_NAME)) {
      this.selected = 'ppse';
      const entry: TlvEntry[] = [['4F', this.listedAid()], ['50', Buffer.from(this.app.label).toString('hex')], ['87', this.app.priority.toString(16).padStart(2, '0')]];
      if (this.app.kernelId) entry.push(['9F2A', this.app.kernelId]);
      return sw(SW.OK, encodeTlv([['6F', [['84', PPSE_NAME], ['A5', [['BF0C', [['61', entry]]]]]]]]));
    }
    if (equalBytes(name, fromHex(this.app.aid))) {
      const a5: TlvEntry[] = [['50', Buffer.from(this.app.label).toString('hex')], ['87', this.app.priority.toString(16).padStart(2, '0')]];
      if (this.app.pdol) a5.push(['9F38', this.app.pdol]);
      a5.push(...(this.app.extraFci ?? []));
      const fci = encodeTlv([['6F', [['84', this.app.aid], ['A5', a5]]]]);
      // A blocked application still answers with its FCI, but with 6283 (Book 1 §11.3.5).
      if (this.options.blocked) { this.selected = 'none'; return sw(SW.SELECTED_FILE_INVALIDATED, fci); }
      this.selected = 'app';
      return sw(SW.OK, fci);
    }
    this.selected = 'none';
    return sw(SW.FILE_NOT_FOUND);
  }

  private readRecord(rec: number, p2: number): Uint8Array {
    if ((p2 & 0x07) !== 0x04) return sw(SW.WRONG_P1P2);
    if (this.selected !== 'app') return sw(SW.CONDITIONS_NOT_SATISFIED);
    const r = this.card.records.find((x) => x.sfi === p2 >> 3 && x.record === rec);
    return r ? sw(SW.OK, r.body) : sw(SW.RECORD_NOT_FOUND);
  }

  private gpoCommand(data: Uint8Array): Uint8Array {
    // Data must be the command template 83 holding exactly the PDOL-sized data.
    let values: Uint8Array;
    try {
      const t = decodeTlv(data);
      if (t.length !== 1 || t[0]!.tag !== '83') return sw(SW.CONDITIONS_NOT_SATISFIED);
      values = t[0]!.value;
    } catch { return sw(SW.WRONG_LENGTH); }
    const dol = this.app.pdol ? parseDol(fromHex(this.app.pdol)) : [];
    if (values.length !== dol.reduce((n, e) => n + e.length, 0)) return sw(SW.WRONG_LENGTH);
    this.pdolData = values.slice();
    this.pdolValues = new Map();
    let o = 0;
    for (const e of dol) { this.pdolValues.set(e.tag, values.subarray(o, o + e.length)); o += e.length; }
    if (this.atc >= 0xffff) return sw(SW.CONDITIONS_NOT_SATISFIED); // ATC exhausted: card is dead
    this.atc++;
    return this.gpo();
  }

  protected atcBytes(): Uint8Array {
    return Uint8Array.of(this.atc >> 8, this.atc & 0xff);
  }

  /** The application has expired when the transaction date (9A, YYMMDD) is past 5F24. */
  protected expired(txnDate: Uint8Array | undefined): boolean {
    return !!txnDate && Buffer.from(txnDate).toString('hex') > this.card.expiry;
  }

  /** The CVN, keys and transaction an issuer script is checked against: the card's own (a
   *  dual-algorithm card answers with the algorithm of the transaction that carries the script). */
  protected scriptContext(): ScriptContext {
    return { ...this.card, online: this.online };
  }

  protected abstract gpo(): Uint8Array;
  protected generateAc(_p1: number, _data: Uint8Array): Uint8Array { return sw(SW.INS_NOT_SUPPORTED); }
  protected exchangeRelayResistanceData(_p1: number, _p2: number, _data: Uint8Array): Uint8Array { return sw(SW.INS_NOT_SUPPORTED); }
}
