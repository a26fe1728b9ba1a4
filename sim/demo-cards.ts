// The simulated cards the demo offers, with the PIN each one's issuer account holds (the
// simulated issuer's table, backend/issuer-sim TEST_CARDS, is the source; sim/README.md lists
// them), and the file that keeps each card's transaction counter between demo runs.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnionPayCardSim, UnionPaySmCardSim, VisaCardSim, MastercardCardSim, TEST_ISSUER_MASTER_KEY_AC_SM4, type SimulatedCard, type CardOptions } from './cards/index.ts';
import { EmvCardSim } from './cards/emv-card.ts';

export interface DemoCard {
  name: string;
  scheme: 'unionpay' | 'visa' | 'mastercard';
  label: string;
  pan: string;
  pin: string;
  /** What the issuer (or the card) decides, for --help. */
  outcome: string;
  make(o?: CardOptions): SimulatedCard;
}

/** `sm`: a UnionPay national-algorithm card (UnionPaySmCardSim: SM2 ODA, SM4 cryptogram). */
const card = (name: string, scheme: DemoCard['scheme'], label: string, pan: string, outcome: string, defaults: CardOptions = {}, sm = false): DemoCard => ({
  name, scheme, label, pan, pin: '1234', outcome,
  make: (o = {}) => {
    const opts = { pan, ...defaults, ...o };
    if (sm) return new UnionPaySmCardSim(opts);
    return scheme === 'unionpay' ? new UnionPayCardSim(opts) : scheme === 'visa' ? new VisaCardSim(opts) : new MastercardCardSim(opts);
  },
});

/** TEST ONLY: an SM4 issuer master key that is not the simulated issuer's, for an SM card whose
 *  chip was personalised wrongly (or forged): its SM4 cryptograms cannot verify. */
const OTHER_SM4_ISSUER_MASTER_KEY = TEST_ISSUER_MASTER_KEY_AC_SM4.map((b) => b ^ 0x5a);

export const DEMO_CARDS: Record<string, DemoCard> = Object.fromEntries([
  card('unionpay', 'unionpay', 'UnionPay QuickPass (simulated)', '6228480000000000017', 'approved (CNY 10,000.00 balance)'),
  card('visa', 'visa', 'Visa payWave (simulated)', '4761739001010119', 'approved (USD 5,000.00 balance)'),
  card('visa-cvn22', 'visa', 'Visa payWave, cryptogram version 22 (simulated)', '4761739001010143', 'approved (USD 5,000.00 balance; VIS 1.6 CVN 22)', { cvn: 'visa-22' }),
  card('mastercard', 'mastercard', 'Mastercard contactless (simulated)', '5413330089010434', 'approved (EUR 5,000.00 balance)'),
  // A phone wallet: above the CVM limit its first tap ends "See Phone" (the holder verifies on
  // the phone), the second completes with CDCVM (--scenario see-phone).
  card('mastercard-wallet', 'mastercard', 'Mastercard phone wallet (simulated)', '5413330089010442', 'approved with CDCVM (EUR 5,000.00 balance; "See Phone" first above the CVM limit)', { wallet: true }),
  card('unionpay-sm', 'unionpay', 'UnionPay QuickPass SM, national algorithms (simulated)', '6228480000000000042', 'approved (SM2 ODA, SM4 cryptogram; CNY 10,000.00 balance)', {}, true),
  card('unionpay-sm-wrong-key', 'unionpay', 'UnionPay QuickPass SM, chip keyed under another SM4 issuer key (simulated)', '6228480000000000059',
    'declined CRYPTOGRAM_FAILED (its SM4 ARQC does not verify)', { issuerMasterKeyAcSm4: OTHER_SM4_ISSUER_MASTER_KEY }, true),
  card('unionpay-low-balance', 'unionpay', 'UnionPay QuickPass, CNY 20.00 left (simulated)', '6228480000000000026', 'declined INSUFFICIENT_FUNDS above CNY 20.00'),
  card('visa-blocked', 'visa', 'Visa payWave, blocked by its issuer (simulated)', '4761739001010127', 'declined BLOCKED_CARD by the issuer'),
  // Past its expiry date (5F24 240131): the card itself answers with an AAC, the kernel declines
  // offline and nothing reaches the issuer (whose records say 2401 too).
  card('unionpay-expired', 'unionpay', 'UnionPay QuickPass, expired 01/2024 (simulated)', '6228480000000000034', 'failed CARD_DECLINED_OFFLINE (the card is expired)', { expiry: '240131' }),
].map((c) => [c.name, c]));

/** The ATC a simulated card starts with when no option says otherwise (sim/cards/emv-card.ts). */
const DEFAULT_ATC = 1;

/** A card's application transaction counter (ATC), kept in a JSON file between runs: a real card
 * never repeats an ATC, and an issuer declines a cryptogram whose ATC it has already seen, so a
 * demo against a long-running back end must go on counting where the last run stopped. */
export class CardCounterFile {
  constructor(readonly path: string) {}

  private read(): Record<string, { atc: number }> {
    let text: string;
    try { text = readFileSync(this.path, 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw e;
    }
    const doc = JSON.parse(text) as { cards?: Record<string, { atc: number }> };
    return doc.cards ?? {};
  }

  /** The ATC the card last used, if it was used before. */
  atc(pan: string): number | undefined {
    return this.read()[pan]?.atc;
  }

  /** Remembers where a card's counter stands after a run (written whole, then renamed). */
  save(pan: string, c: SimulatedCard, startedAt: number | undefined): void {
    // A card that never computed a cryptogram leaves the file as it was (or absent).
    if (!(c instanceof EmvCardSim) || c.atc === (startedAt ?? DEFAULT_ATC)) return;
    const cards = this.read();
    cards[pan] = { atc: Math.max(c.atc, cards[pan]?.atc ?? 0) };
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ cards }, null, 1) + '\n');
    renameSync(tmp, this.path);
  }
}
