// SIMULATED ISSUER: wallet accounts for QR payments (issue 7). A wallet account is an issuer
// account without a card (a row of card_accounts with scheme 'wallet', no keys, no PIN), so its
// balance moves, is journaled and is reversed exactly like a card's (IssuerSim.decide/reverse).
//
// How a wallet app authenticates, simply but honestly:
//   - login (the issuer provisions its app; here a back-office route): a random 256-bit bearer
//     token, stored only as SHA-256 with the account and an expiry;
//   - consumer-presented payment codes: one-time, short-lived (60 s), bound to the account: a
//     19-digit number starting 62 (UnionPay-style dynamic payment code) and a random 8-byte
//     cryptogram, stored only as SHA-256 of the number with the cryptogram; shown as EMVCo CPM
//     (Base64 BER-TLV: 85 "CPV01", 61 { 4F, 50, 5A = the number, 63 { 9F26, 9F27 } }) or as the
//     bare 19 digits (a bar code: then the number alone is the one-time secret).
import { randomBytes, randomInt } from 'node:crypto';
import type { Repository, CardAccountRow } from '../store/repository.ts';
import { encodeTlv } from '../../common/tlv.ts';
import { sha256Hex } from '../util.ts';
import { panHash, maskPan } from './index.ts';

export interface TestWallet {
  /** The id the wallet logs in with (sim/wallet, the demo's QR modes). */
  id: string;
  /** The wallet account number (shown masked on receipts). */
  number: string;
  currency: string;
  balanceMinor: number;
  status: 'active' | 'blocked';
  note: string;
}

/** The simulated issuer's wallets. Keep in step with sim/wallet/README.md. */
export const TEST_WALLETS: readonly TestWallet[] = [
  { id: 'wallet-cny', number: '6235010000000001', currency: '156', balanceMinor: 5_000_00, status: 'active', note: 'QR payments in CNY' },
  { id: 'wallet-low', number: '6235010000000019', currency: '156', balanceMinor: 20_00, status: 'active', note: 'insufficient funds above CNY 20.00' },
  { id: 'wallet-usd', number: '6235010000000027', currency: '840', balanceMinor: 500_00, status: 'active', note: 'QR payments in USD' },
  { id: 'wallet-blocked', number: '6235010000000035', currency: '156', balanceMinor: 5_000_00, status: 'blocked', note: 'blocked by the issuer' },
];

export const WALLET_TOKEN_TTL_MS = 24 * 3600_000;
export const PAYMENT_CODE_TTL_MS = 60_000;
export const WALLET_AID = 'A000000333010101';

export type CodeCheck = { ok: true; account: CardAccountRow } | { ok: false; why: 'unknown' | 'used' | 'expired' };

export class WalletIssuer {
  constructor(private readonly repo: Repository) {}

  /** Opens the test wallets unless they exist (balances survive a restart). */
  async seed(wallets: readonly TestWallet[] = TEST_WALLETS): Promise<void> {
    await this.repo.transaction(async () => {
      for (const w of wallets) if (!await this.repo.getCardAccount(panHash(w.number))) await this.open(w);
    });
  }

  /** (Re)opens a wallet account with the given balance. */
  async open(w: TestWallet): Promise<void> {
    await this.repo.putCardAccount({
      panHash: panHash(w.number), maskedPan: maskPan(w.number), scheme: 'wallet', cvn: '', imkId: '', currency: w.currency,
      balanceMinor: w.balanceMinor, status: w.status, expiry: '9912', pvv: new Uint8Array(0), pvkId: '', pinTries: 0, pinTryLimit: 0, lastAtc: -1,
    });
  }

  async account(id: string, wallets: readonly TestWallet[] = TEST_WALLETS): Promise<CardAccountRow | null> {
    const w = wallets.find((x) => x.id === id);
    return w ? await this.repo.getCardAccount(panHash(w.number)) : null;
  }

  /** The wallet app's bearer token for an account. */
  async login(id: string, nowMs: number): Promise<{ token: string; expiresMs: number; account: CardAccountRow } | null> {
    const account = await this.account(id);
    if (!account) return null;
    const token = randomBytes(32).toString('base64url');
    const expiresMs = nowMs + WALLET_TOKEN_TTL_MS;
    await this.repo.putWalletSession(tokenHash(token), account.panHash, expiresMs);
    return { token, expiresMs, account };
  }

  /** The account behind a bearer token, or null (unknown or expired). */
  async authenticate(token: string, nowMs: number): Promise<CardAccountRow | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
    const s = await this.repo.getWalletSession(tokenHash(token));
    if (!s || nowMs >= s.expiresMs) return null;
    return this.repo.getCardAccount(s.accountHash);
  }

  /** A one-time consumer-presented payment code for the account. */
  async issueCode(account: CardAccountRow, nowMs: number): Promise<{ code: string; cpm: string; expiresMs: number }> {
    const code = `62${Array.from({ length: 17 }, () => randomInt(10)).join('')}`;
    const cryptogram = randomBytes(8).toString('hex').toUpperCase();
    const expiresMs = nowMs + PAYMENT_CODE_TTL_MS;
    await this.repo.putWalletCode({ codeHash: codeHash(code), accountHash: account.panHash, cryptogram, expiresMs });
    const cpm = Buffer.from(encodeTlv([
      ['85', Buffer.from('CPV01').toString('hex')],
      ['61', [['4F', WALLET_AID], ['50', Buffer.from('TrustTap Wallet').toString('hex')], ['5A', `${code}F`],
        ['63', [['9F26', cryptogram], ['9F27', '80']]]]],
    ])).toString('base64');
    return { code, cpm, expiresMs };
  }

  /** Redeems a payment code once: known, unused, not expired, the cryptogram (CPM) matching.
   * The code is used up by this call whatever the payment's outcome. */
  async redeemCode(code: string, cryptogram: string | null, nowMs: number): Promise<CodeCheck> {
    const c = await this.repo.getWalletCode(codeHash(code));
    if (!c || (cryptogram !== null && cryptogram.toUpperCase() !== c.cryptogram)) return { ok: false, why: 'unknown' };
    if (c.usedMs) return { ok: false, why: 'used' };
    if (!await this.repo.useWalletCode(c.codeHash, nowMs)) return { ok: false, why: 'used' };
    if (nowMs >= c.expiresMs) return { ok: false, why: 'expired' };
    const account = await this.repo.getCardAccount(c.accountHash);
    return account ? { ok: true, account } : { ok: false, why: 'unknown' };
  }
}

const tokenHash = (t: string) => sha256Hex('trusttap/wallet-token/v1\0', t);
const codeHash = (c: string) => sha256Hex('trusttap/wallet-code/v1\0', c);
