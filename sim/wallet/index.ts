// A simulated customer wallet app for QR payments (issue 7). It is provisioned by the simulated
// issuer (a bearer token for one of backend/issuer-sim/wallet.ts TEST_WALLETS) and:
//   - scans a merchant-presented code: parses it with common/qr (CRC-16 checked, typed QrError on
//     a bad CRC or a malformed payload), shows the merchant and amount, pays through
//     POST /v1/wallet/pay;
//   - shows a consumer-presented payment code: POST /v1/wallet/codes gives a one-time, 60-second
//     code bound to the account, as EMVCo CPM (Base64) and as 19 digits.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { parseMerchantQr, type MerchantQr } from '../../common/qr/merchant-presented.ts';

const pay = trusttap.payment.v1;
const num = (x: unknown) => (typeof x === 'number' ? x : x == null ? 0 : (x as { toNumber(): number }).toNumber());

export class WalletError extends Error {
  constructor(readonly http: number, readonly code: string, message: string, readonly qrError?: string) {
    super(`${http} ${code}${qrError ? ` ${qrError}` : ''}: ${message}`);
    this.name = 'WalletError';
  }
}

export class SimWallet {
  constructor(readonly baseUrl: string, readonly token: string, readonly maskedAccount = '') {}

  /** The issuer provisions the wallet app for an account (a back-office route of the simulator). */
  static async login(baseUrl: string, adminToken: string, accountId: string): Promise<SimWallet> {
    const r = await fetch(`${baseUrl}/v1/admin/wallets/login`, {
      method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/x-protobuf' },
      body: Buffer.from(pay.WalletLoginRequest.encode({ accountId }).finish()),
    });
    const body = await answer(r, 'WalletLoginResponse');
    const l = pay.WalletLoginResponse.decode(body);
    return new SimWallet(baseUrl, l.token, l.maskedAccount);
  }

  /** What the customer sees after scanning (throws QrError on a bad CRC or malformed payload). */
  scan(payload: string): MerchantQr {
    return parseMerchantQr(payload);
  }

  /** Scans and pays a merchant-presented code. Resending the same payload after a lost answer
   * returns the same result (never a second debit). */
  async pay(payload: string): Promise<{ result: trusttap.payment.v1.AuthorizeResponse; merchantName: string }> {
    this.scan(payload);
    return this.payUnchecked(payload);
  }

  /** Sends the payload without checking it first (tests: the back end's own checks). */
  async payUnchecked(payload: string): Promise<{ result: trusttap.payment.v1.AuthorizeResponse; merchantName: string }> {
    const r = await fetch(`${this.baseUrl}/v1/wallet/pay`, {
      method: 'POST', headers: this.headers(), body: Buffer.from(pay.WalletPayRequest.encode({ payload }).finish()),
    });
    const p = pay.WalletPayResponse.decode(await answer(r, 'WalletPayResponse'));
    return { result: p.result as trusttap.payment.v1.AuthorizeResponse, merchantName: p.merchantName };
  }

  /** A fresh one-time payment code to show the merchant. */
  async paymentCode(): Promise<{ cpm: string; code: string; expiresMs: number }> {
    const r = await fetch(`${this.baseUrl}/v1/wallet/codes`, { method: 'POST', headers: this.headers() });
    const c = pay.WalletCodeResponse.decode(await answer(r, 'WalletCodeResponse'));
    return { cpm: c.cpm, code: c.code, expiresMs: num(c.expiresMs) };
  }

  async balance(): Promise<{ balanceMinor: number; currency: string; maskedAccount: string }> {
    const r = await fetch(`${this.baseUrl}/v1/wallet/balance`, { headers: this.headers() });
    const b = pay.WalletBalanceResponse.decode(await answer(r, 'WalletBalanceResponse'));
    return { balanceMinor: num(b.balanceMinor), currency: b.currency, maskedAccount: b.maskedAccount };
  }

  private headers() {
    return { authorization: `Bearer ${this.token}`, 'content-type': 'application/x-protobuf' };
  }
}

async function answer(r: Response, message: string): Promise<Uint8Array> {
  const body = new Uint8Array(await r.arrayBuffer());
  if (r.headers.get('x-trusttap-message') === message) return body;
  let text = '';
  try { text = trusttap.attest.v1.ErrorResponse.decode(body).message; } catch { text = 'unreadable error body'; }
  throw new WalletError(r.status, r.headers.get('x-trusttap-error') ?? '', text, r.headers.get('x-trusttap-qr-error') ?? undefined);
}
