// SIMULATED ISSUER (issue 7). Card accounts with balances, PIN verification data and a PIN try
// counter, so an authorization's approval or decline is a real decision. The simulated cards of
// sim/cards are issued here: same PANs, PSNs and issuer master key (TEST ONLY), so a simulated
// card's ARQC verifies. The table is documented in sim/README.md (the demo's --pin is checked
// against it).
//
// Accounts live in the back end's database (migration 2: card_accounts, account_movements), so
// the issuer's debit and the acquirer's journal commit in one SQLite transaction. A real issuer
// is another party reached over a network: the acquirer journals first and reverses on doubt.
// The PIN is never stored: only its PIN verification value, made and checked inside the HSM.
import { DEFAULT_ACQUIRER as DEFAULT_ACQUIRER_ID, type Repository, type CardAccountRow } from '../store/repository.ts';
import type { Hsm } from '../hsm/hsm.ts';
import { sha256Hex } from '../util.ts';
import { keyIdIn } from '../tenants.ts';

/** TEST ONLY: the issuer master key (AC) of every simulated card (sim/cards/personalisation.ts
 * TEST_ISSUER_MASTER_KEY_AC holds the same value). */
export const TEST_ISSUER_MASTER_KEY_AC_HEX = '0123456789ABCDEFFEDCBA9876543210';
/** TEST ONLY: the SM4 issuer master key (AC) of the simulated national-algorithm cards
 * (sim/cards/personalisation.ts TEST_ISSUER_MASTER_KEY_AC_SM4 holds the same value). */
export const TEST_ISSUER_MASTER_KEY_AC_SM4_HEX = '00112233445566778899AABBCCDDEEFF';
export const TEST_IMK_ID = 'imk-test';
export const TEST_PVK_ID = 'pvk-issuer-sim';

export interface TestCard {
  /** The name the demo's --card takes. */
  name: string;
  scheme: 'unionpay' | 'visa' | 'mastercard';
  pan: string;
  psn: string;
  /** YYMM: the expiry in the issuer's records (the simulators are personalised to match: 301231, or 240131 for the expired card). */
  expiry: string;
  cvn: string;
  pin: string;
  currency: string;
  balanceMinor: number;
  status: 'active' | 'blocked';
  note: string;
}

/** The simulated issuer's cards. Keep in step with sim/README.md. */
export const TEST_CARDS: readonly TestCard[] = [
  { name: 'unionpay', scheme: 'unionpay', pan: '6228480000000000017', psn: '01', expiry: '3012', cvn: 'unionpay-01', pin: '1234', currency: '156', balanceMinor: 10_000_00, status: 'active', note: 'sim/cards UnionPayCardSim default' },
  { name: 'visa', scheme: 'visa', pan: '4761739001010119', psn: '01', expiry: '3012', cvn: 'visa-18', pin: '1234', currency: '840', balanceMinor: 5_000_00, status: 'active', note: 'sim/cards VisaCardSim default' },
  { name: 'visa-cvn22', scheme: 'visa', pan: '4761739001010143', psn: '01', expiry: '3012', cvn: 'visa-22', pin: '1234', currency: '840', balanceMinor: 5_000_00, status: 'active', note: 'sim/cards VisaCardSim personalised for CVN 22 (VIS 1.6)' },
  { name: 'mastercard', scheme: 'mastercard', pan: '5413330089010434', psn: '01', expiry: '3012', cvn: 'mastercard-16', pin: '1234', currency: '978', balanceMinor: 5_000_00, status: 'active', note: 'sim/cards MastercardCardSim default' },
  { name: 'mastercard-wallet', scheme: 'mastercard', pan: '5413330089010442', psn: '01', expiry: '3012', cvn: 'mastercard-16', pin: '1234', currency: '978', balanceMinor: 5_000_00, status: 'active', note: 'sim/cards MastercardCardSim as a phone wallet (wallet: true): above the CVM limit it asks for "See Phone", then CDCVM on the second tap' },
  { name: 'unionpay-low-balance', scheme: 'unionpay', pan: '6228480000000000026', psn: '01', expiry: '3012', cvn: 'unionpay-01', pin: '1234', currency: '156', balanceMinor: 20_00, status: 'active', note: 'insufficient funds above CNY 20.00' },
  { name: 'visa-blocked', scheme: 'visa', pan: '4761739001010127', psn: '01', expiry: '3012', cvn: 'visa-18', pin: '1234', currency: '840', balanceMinor: 5_000_00, status: 'blocked', note: 'blocked by the issuer (the card itself still answers)' },
  { name: 'unionpay-sm', scheme: 'unionpay', pan: '6228480000000000042', psn: '01', expiry: '3012', cvn: 'unionpay-01', pin: '1234', currency: '156', balanceMinor: 10_000_00, status: 'active', note: 'sim/cards UnionPaySmCardSim: national algorithms, SM2 ODA and an SM4 cryptogram (CVN 01, IAD algorithm indicator 04)' },
  { name: 'unionpay-sm-wrong-key', scheme: 'unionpay', pan: '6228480000000000059', psn: '01', expiry: '3012', cvn: 'unionpay-01', pin: '1234', currency: '156', balanceMinor: 10_000_00, status: 'active', note: 'an SM card whose chip was personalised under another SM4 issuer master key: its SM4 ARQC fails, CRYPTOGRAM_FAILED' },
  { name: 'unionpay-expired', scheme: 'unionpay', pan: '6228480000000000034', psn: '01', expiry: '2401', cvn: 'unionpay-01', pin: '1234', currency: '156', balanceMinor: 10_000_00, status: 'active', note: 'expired January 2024: sim/demo-cards.ts personalises its chip with 5F24 240131, so the card declines offline; the issuer would decline EXPIRED_CARD too' },
];

export const PIN_TRY_LIMIT = 3;

/** Minor-unit exponent and a fixed simulated rate (units per USD) of the currencies the
 * simulated issuer converts between. TEST ONLY: a real issuer uses the scheme's rates. */
const FX: Record<string, { exp: number; perUsd: number }> = {
  '156': { exp: 2, perUsd: 7.2 }, '840': { exp: 2, perUsd: 1 }, '978': { exp: 2, perUsd: 0.92 },
  '826': { exp: 2, perUsd: 0.79 }, '344': { exp: 2, perUsd: 7.8 }, '392': { exp: 0, perUsd: 150 },
};

/** The amount in the account's currency (rounded up), or null if either currency is unknown. */
export function convert(amountMinor: number, from: string, to: string): number | null {
  if (from === to) return amountMinor;
  const f = FX[from], t = FX[to];
  if (!f || !t) return null;
  return Math.ceil((amountMinor / 10 ** f.exp / f.perUsd) * t.perUsd * 10 ** t.exp);
}

/** The HSM id under which an acquirer's route holds a card's issuer master key (the account's
 * imk_id in the acquirer's namespace, backend/tenants.ts keyIdIn). */
export function issuerKeyId(acquirerId: string, imkId: string): string {
  return keyIdIn(acquirerId, imkId);
}

export const panHash = (pan: string) => sha256Hex('trusttap/pan/v1\0', pan);
export const maskPan = (pan: string) => pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4);

export class IssuerSim {
  constructor(private readonly repo: Repository, private readonly hsm: Hsm) {}

  /** Issues the test cards (keys into the HSM, accounts with their PVV) unless they exist:
   * balances and try counters survive a restart. */
  async seed(cards: readonly TestCard[] = TEST_CARDS): Promise<void> {
    await this.ensureKeys(DEFAULT_ACQUIRER_ID);
    await this.hsm.ensurePinVerificationKey(TEST_PVK_ID);
    await this.repo.transaction(async () => {
      for (const c of cards) {
        if (await this.repo.getCardAccount(panHash(c.pan))) continue;
        await this.issue(c);
      }
    });
  }

  /** The simulated issuer's keys as the acquirer's route uses them, in the acquirer's HSM
   * namespace, made on first use: the master keys (TDES and SM4, `acq.<id>.imk-test`) and the PIN
   * verification key (`acq.<id>.pvk-issuer-sim`) with the test cards' PVVs under it (issuer_pvvs).
   * The default acquirer's stay `imk-test` and `pvk-issuer-sim` with the PVVs in the accounts.
   * TEST ONLY: every master key copy holds the test value, since the simulated chips carry it. */
  async ensureKeys(acquirerId: string, cards: readonly TestCard[] = TEST_CARDS): Promise<void> {
    const id = issuerKeyId(acquirerId, TEST_IMK_ID);
    if (!await this.hsm.hasIssuerMasterKey(id)) await this.hsm.importIssuerMasterKey(id, Buffer.from(TEST_ISSUER_MASTER_KEY_AC_HEX, 'hex'));
    if (!await this.hsm.hasIssuerMasterKey(id, 'sm4')) await this.hsm.importIssuerMasterKey(id, Buffer.from(TEST_ISSUER_MASTER_KEY_AC_SM4_HEX, 'hex'), 'sm4');
    if (acquirerId === DEFAULT_ACQUIRER_ID) return;
    const pvkId = issuerKeyId(acquirerId, TEST_PVK_ID);
    await this.hsm.ensurePinVerificationKey(pvkId);
    for (const c of cards) {
      const h = panHash(c.pan);
      if (await this.repo.getIssuerPvv(acquirerId, h)) continue;
      await this.repo.addIssuerPvv(acquirerId, h, pvkId, await this.hsm.pinVerificationValue(pvkId, c.pan, c.pin));
    }
  }

  /** The PIN verification key and value the acquirer's route checks a card's PIN against: the
   * acquirer's own (issuer_pvvs), the account's for the default acquirer; null if it has none. */
  async pinVerification(acquirerId: string, acct: CardAccountRow): Promise<{ pvkId: string; pvv: Uint8Array } | null> {
    if (acquirerId === DEFAULT_ACQUIRER_ID) return { pvkId: acct.pvkId, pvv: acct.pvv };
    return this.repo.getIssuerPvv(acquirerId, acct.panHash);
  }

  /** (Re)issues one card: a fresh account with the given balance and PIN. */
  async issue(c: TestCard): Promise<void> {
    const row: CardAccountRow = {
      panHash: panHash(c.pan), maskedPan: maskPan(c.pan), scheme: c.scheme, cvn: c.cvn, imkId: TEST_IMK_ID, currency: c.currency,
      balanceMinor: c.balanceMinor, status: c.status, expiry: c.expiry, pvv: await this.hsm.pinVerificationValue(TEST_PVK_ID, c.pan, c.pin),
      pvkId: TEST_PVK_ID, pinTries: 0, pinTryLimit: PIN_TRY_LIMIT, lastAtc: -1,
    };
    await this.repo.putCardAccount(row);
  }

  async account(pan: string): Promise<CardAccountRow | null> {
    return this.repo.getCardAccount(panHash(pan));
  }

  async balance(pan: string): Promise<number | null> {
    return (await this.account(pan))?.balanceMinor ?? null;
  }

  /** Records a PIN check on the account; returns the decision the issuer takes on it. */
  async pinResult(acct: CardAccountRow, match: boolean): Promise<'ok' | 'wrong' | 'exhausted'> {
    if (match) {
      if (acct.pinTries) await this.repo.updateCardAccount(acct.panHash, { pinTries: 0 });
      return 'ok';
    }
    const tries = acct.pinTries + 1;
    await this.repo.updateCardAccount(acct.panHash, { pinTries: tries });
    acct.pinTries = tries;
    return tries >= acct.pinTryLimit ? 'exhausted' : 'wrong';
  }

  /** The issuer's decision on an authenticated card (ARQC verified): card status, expiry (its
   * records' and the chip's, YYMM) at the transaction date (9A, YYMMDD), funds. On approval the
   * balance moves and the ledger records it. */
  async decide(acct: CardAccountRow, t: { type: 'purchase' | 'refund'; amountMinor: number; currency: string; date: string; chipExpiry?: string; reference: string; nowMs: number; lastAtc?: number }):
    Promise<{ ok: true; delta: number } | { ok: false; why: 'blocked' | 'expired' | 'funds' | 'currency' }> {
    const d = judge(acct, t);
    // t.lastAtc (the ARQC just verified) is written with the balance, or alone on a decline: one
    // statement either way, in the caller's transaction.
    if (!d.ok) {
      if (t.lastAtc !== undefined) await this.repo.updateCardAccount(acct.panHash, { lastAtc: t.lastAtc });
      return d;
    }
    await this.move(acct.panHash, acct.balanceMinor + d.delta, d.delta, t.reference, t.type, t.nowMs, t.lastAtc);
    return d;
  }

  /** Undoes an approved movement (a reversal). */
  async reverse(panHashHex: string, delta: number, reference: string, nowMs: number): Promise<void> {
    const acct = await this.repo.getCardAccount(panHashHex);
    if (!acct || !delta) return;
    await this.move(panHashHex, acct.balanceMinor - delta, -delta, reference, 'reversal', nowMs);
  }

  private async move(panHashHex: string, balance: number, delta: number, reference: string, kind: string, nowMs: number, lastAtc?: number): Promise<void> {
    await this.repo.updateCardAccount(panHashHex, lastAtc === undefined ? { balanceMinor: balance } : { balanceMinor: balance, lastAtc });
    await this.repo.addAccountMovement({ panHash: panHashHex, reference, deltaMinor: delta, kind, timeMs: nowMs });
  }
}

/** The issuer's decision alone (no effect): card status, expiry at the transaction date, funds. */
function judge(acct: CardAccountRow, t: { type: 'purchase' | 'refund'; amountMinor: number; currency: string; date: string; chipExpiry?: string }):
  { ok: true; delta: number } | { ok: false; why: 'blocked' | 'expired' | 'funds' | 'currency' } {
  if (acct.status === 'blocked') return { ok: false, why: 'blocked' };
  const month = t.date.slice(0, 4);
  if (!/^\d{4}$/.test(month) || month > acct.expiry || (t.chipExpiry && month > t.chipExpiry)) return { ok: false, why: 'expired' };
  const amount = convert(t.amountMinor, t.currency, acct.currency);
  if (amount === null) return { ok: false, why: 'currency' };
  const delta = t.type === 'refund' ? amount : -amount;
  if (acct.balanceMinor + delta < 0) return { ok: false, why: 'funds' };
  return { ok: true, delta };
}
