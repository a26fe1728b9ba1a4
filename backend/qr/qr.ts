// QR payments on the acquirer back end (issue 7). Two modes:
//
// Merchant-presented (dynamic) QR — a device-signed qr_order:
//   1. idempotency: an order with this client_transaction_id is returned as it is now (same
//      amount and currency), else refused; an id already in the payments journal is refused;
//   2. device: active, a fresh ALLOW verdict token for this device key, the payment gate;
//   3. the order is journaled (qr_orders) with the EMVCo MPM payload made by common/qr's generator:
//      dynamic, amount, the UnionPay merchant account (ID 15) for CNY, the acquirer's template 26
//      (merchant and terminal), template 62 with the order reference (05) and terminal label (07).
//   The device polls with qr_status (cancel = true cancels a pending order). A wallet pays with
//   POST /v1/wallet/pay: its bearer token (issuer-sim/wallet.ts), the payload parsed and CRC-checked
//   by common/qr, matched byte for byte against the order's (no altered amount), the order pending and
//   not expired, the issuer's decision on the wallet account (balance); the order state, the
//   account movement and the payments journal row commit in one SQLite transaction before the
//   answer. A decline is final for the order (the terminal starts a new one).
//
// Consumer-presented QR — a device-signed qr_authorize carrying the scanned code:
//   0. idempotency: the same id with the same code, amount and currency returns the journaled
//      answer; another request under a journaled id is refused (INVALID_TRANSACTION);
//   1. device checks as above; the code must parse (EMVCo CPM or 19 digits) — refusals up to
//      here are not journaled and do not use the code up;
//   2. the issuer redeems the code (one time, not expired, bound to its wallet account) and
//      decides on the balance; the decision is journaled (payments) with the code used up.
//
// Both modes journal their result as an AuthorizeResponse in the payments journal, so
// transaction_status and reverse work on QR payments as on card payments.
import { randomBytes } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { Repository, DeviceRow, QrOrderRow, CardAccountRow } from '../store/repository.ts';
import type { Hsm } from '../hsm/hsm.ts';
import { IssuerSim } from '../issuer-sim/index.ts';
import { WalletIssuer } from '../issuer-sim/wallet.ts';
import { generateMerchantQr, parseMerchantQr, unionPayAccount, UNIONPAY_RID } from '../../common/qr/merchant-presented.ts';
import { parseConsumerQr, selectApplication } from '../../common/qr/consumer-presented.ts';
import { QrError } from '../../common/qr/errors.ts';
import { currencyOf } from '../../common/currency.ts';
import { verifyToken } from '../../common/verdict-token.ts';
import { ApiError, ErrorCode, malformed } from '../errors.ts';
import { num, u64, sha256Hex } from '../util.ts';
import { currentAnswer } from '../authorization/current.ts';
import { RESPONSE_CODE } from '../authorization/response-codes.ts';

const pay = trusttap.payment.v1;
const at = trusttap.attest.v1;
const R = pay.DeclineReason;
type Reason = trusttap.payment.v1.DeclineReason;
type AuthorizeResponse = trusttap.payment.v1.IAuthorizeResponse;

/** AIDs of the consumer-presented applications this acquirer takes (CPM §5.1.4 matches by prefix). */
const CPM_AIDS = [UNIONPAY_RID];

/** What the merchant-presented payload says about the merchant (a real acquirer has it per
 * merchant from its back office). */
export interface QrMerchantProfile {
  /** UnionPay acquirer IIN, 8 digits (merchant account ID 15). */
  acquirerIin: string;
  /** Globally unique identifier of the acquirer's template 26. */
  gui: string;
  merchantCategoryCode: string;
  countryCode: string;
  merchantCity: string;
  merchantName(merchantId: string): string;
}

export const DEFAULT_QR_MERCHANT: QrMerchantProfile = {
  acquirerIin: '48020000', gui: 'COM.TRUSTTAP.QR', merchantCategoryCode: '5999', countryCode: 'CN', merchantCity: 'SHANGHAI',
  merchantName: (m) => `TRUSTTAP ${m}`.slice(0, 25),
};

export const QR_TTL_DEFAULT_MS = 120_000;
export const QR_TTL_MIN_MS = 10_000;
export const QR_TTL_MAX_MS = 15 * 60_000;

export interface QrHost {
  repo: Repository;
  hsm: Hsm;
  issuer: IssuerSim;
  /** The policy version of the device's acquirer, for its history rows. */
  policyVersion(deviceId: string): Promise<number>;
  paymentGate(device: DeviceRow): Promise<{ allowed: boolean; reason: string }>;
  merchant?: QrMerchantProfile;
}

/** A refused wallet request whose cause is the QR payload (x-trusttap-qr-error: the QrError code). */
export class QrPayloadError extends ApiError {
  constructor(readonly qrCode: string, message: string) {
    super(400, ErrorCode.ERROR_MALFORMED, `${qrCode}: ${message}`);
  }
}

const STATE: Record<QrOrderRow['state'], number> = {
  pending: pay.QrOrderState.QR_ORDER_STATE_PENDING, paid: pay.QrOrderState.QR_ORDER_STATE_PAID,
  declined: pay.QrOrderState.QR_ORDER_STATE_DECLINED, expired: pay.QrOrderState.QR_ORDER_STATE_EXPIRED,
  cancelled: pay.QrOrderState.QR_ORDER_STATE_CANCELLED,
};

class Decline {
  constructor(readonly reason: Reason, readonly text: string) {}
}

export class QrPayments {
  readonly wallets: WalletIssuer;
  private readonly merchant: QrMerchantProfile;

  constructor(private readonly host: QrHost) {
    this.wallets = new WalletIssuer(host.repo);
    this.merchant = host.merchant ?? DEFAULT_QR_MERCHANT;
  }

  // ------------------------------------------------------------ merchant-presented

  /** qr_order: runs inside the device request's SQLite transaction. */
  async order(device: DeviceRow, req: trusttap.payment.v1.IQrOrderRequest, now: number): Promise<trusttap.payment.v1.IQrOrder> {
    const { repo } = this.host;
    const ctid = ctidOf(req.clientTransactionId);
    const amount = amountOf(req.amountMinor);
    const currency = currencyNumeric(req.currency);
    const old = await repo.getQrOrder(device.deviceId, ctid);
    if (old) {
      if (old.amountMinor !== amount || old.currency !== currency) return await this.refusedOrder(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'this client_transaction_id was used for another order');
      return await this.orderMessage(await this.current(old, now));
    }
    if (await repo.getPayment(device.deviceId, ctid)) return await this.refusedOrder(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'this client_transaction_id was used for another transaction');
    const why = await this.deviceWhy(device, req.signedToken, now);
    if (why) return await this.refusedOrder(device, now, ctid, R.DECLINE_REASON_DEVICE_NOT_ALLOWED, why);

    const ttl = num(req.ttlMs) || QR_TTL_DEFAULT_MS;
    const expiresMs = now + Math.min(QR_TTL_MAX_MS, Math.max(QR_TTL_MIN_MS, ttl));
    const reference = `QR${randomBytes(8).toString('hex').toUpperCase()}`;
    const payload = this.payload(device, reference, amount, currency);
    const row: QrOrderRow = {
      deviceId: device.deviceId, clientTransactionId: ctid, reference, payload, amountMinor: amount, currency, state: 'pending',
      createdMs: now, expiresMs, updatedMs: now, payerHash: '',
    };
    await repo.insertQrOrder(row);
    await this.history(device.deviceId, now, `${ctid} ${reference}: QR order for ${amount} (${currency}) until ${new Date(expiresMs).toISOString()}`);
    return await this.orderMessage(row);
  }

  /** The EMVCo MPM payload of an order (common/qr's generator). */
  private payload(device: DeviceRow, reference: string, amount: number, currency: string): string {
    const c = currencyOf(currency);
    const m = this.merchant;
    const upMerchant = device.merchantId.toUpperCase().replace(/[^0-9A-Z]/g, '').padEnd(15, '0').slice(0, 15);
    return generateMerchantQr({
      pointOfInitiation: 'dynamic',
      accounts: currency === '156' ? { '15': unionPayAccount(m.acquirerIin, upMerchant) } : {},
      templates: [{ id: '26', gui: m.gui, fields: { '01': device.merchantId, '02': device.terminalId } }],
      merchantCategoryCode: m.merchantCategoryCode, currency, amount: (amount / 10 ** c.exponent).toFixed(c.exponent),
      countryCode: m.countryCode, merchantName: m.merchantName(device.merchantId), merchantCity: m.merchantCity,
      additionalData: { '05': reference, '07': device.terminalId },
    });
  }

  /** qr_status: the order now (a pending order past its expiry becomes EXPIRED); cancel = true
   * cancels a pending one. */
  async status(device: DeviceRow, req: trusttap.payment.v1.IQrStatusRequest, now: number): Promise<trusttap.payment.v1.IQrStatusResponse> {
    const ctid = ctidOf(req.clientTransactionId);
    const o = await this.host.repo.getQrOrder(device.deviceId, ctid);
    if (!o) return { found: false };
    let cur = await this.current(o, now);
    if (req.cancel && cur.state === 'pending' && await this.host.repo.setQrOrderState(o.deviceId, ctid, 'pending', 'cancelled', now)) {
      await this.history(device.deviceId, now, `${ctid} ${o.reference}: QR order cancelled by the terminal`);
      cur = { ...cur, state: 'cancelled', updatedMs: now };
    }
    return { found: true, order: await this.orderMessage(cur) };
  }

  private async current(o: QrOrderRow, now: number): Promise<QrOrderRow> {
    if (o.state === 'pending' && now >= o.expiresMs && await this.host.repo.setQrOrderState(o.deviceId, o.clientTransactionId, 'pending', 'expired', now)) {
      await this.history(o.deviceId, now, `${o.clientTransactionId} ${o.reference}: QR order expired unpaid`);
      return { ...o, state: 'expired', updatedMs: now };
    }
    return o;
  }

  private async orderMessage(o: QrOrderRow): Promise<trusttap.payment.v1.IQrOrder> {
    const p = o.state === 'paid' || o.state === 'declined' ? await this.host.repo.getPayment(o.deviceId, o.clientTransactionId) : null;
    return {
      clientTransactionId: o.clientTransactionId, orderReference: o.reference, payload: o.payload, amountMinor: u64(o.amountMinor),
      currency: o.currency, expiresMs: u64(o.expiresMs), state: STATE[o.state], result: p ? currentAnswer(p) : null,
    };
  }

  private async refusedOrder(device: DeviceRow, now: number, ctid: string, reason: Reason, text: string): Promise<trusttap.payment.v1.IQrOrder> {
    await this.history(device.deviceId, now, `${ctid}: QR order refused ${pay.DeclineReason[reason]}: ${text}`);
    return { clientTransactionId: ctid, state: pay.QrOrderState.QR_ORDER_STATE_UNSPECIFIED, refusedReason: reason, refusedText: text };
  }

  /** POST /v1/wallet/pay: a wallet pays the order it scanned. Run inside a SQLite transaction. */
  async walletPay(token: string, payload: string, now: number): Promise<trusttap.payment.v1.IWalletPayResponse> {
    const { repo } = this.host;
    const acct = await this.walletAccount(token, now);
    let q;
    try {
      q = parseMerchantQr(payload);
    } catch (e) {
      if (e instanceof QrError) throw new QrPayloadError(e.code, e.message);
      throw e;
    }
    const ref = q.additionalData?.['05'] ?? '';
    const o = ref ? await repo.getQrOrderByReference(ref) : null;
    if (!o) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, 'no such QR order at this acquirer (template 62 ID 05)');
    if (o.payload !== payload) throw new QrPayloadError('INVALID_FIELD', 'the payload differs from the order\'s (altered amount or merchant)');
    const cur = await this.current(o, now);
    const answer = async () => ({ result: currentAnswer((await repo.getPayment(o.deviceId, o.clientTransactionId))!), merchantName: q.merchantName });
    if (cur.state === 'paid' || cur.state === 'declined') {
      if (cur.payerHash === acct.panHash) return await answer(); // the wallet's retry: the same answer
      throw new ApiError(409, ErrorCode.ERROR_CONFLICT, 'this order was already paid');
    }
    if (cur.state === 'expired') throw new ApiError(409, ErrorCode.ERROR_CONFLICT, 'this order has expired');
    if (cur.state === 'cancelled' || await repo.getPayment(o.deviceId, o.clientTransactionId)) throw new ApiError(409, ErrorCode.ERROR_CONFLICT, 'this order was cancelled');

    const { decline, delta } = await this.decide(acct, o.reference, o.amountMinor, o.currency, now);
    const res = await this.journal(o.deviceId, o.clientTransactionId, o.reference, `qr-mpm:${o.reference}`, o.amountMinor, o.currency, acct, decline, delta, now, 'merchant-presented');
    if (!await repo.setQrOrderState(o.deviceId, o.clientTransactionId, 'pending', decline ? 'declined' : 'paid', now, acct.panHash)) {
      throw new ApiError(409, ErrorCode.ERROR_CONFLICT, 'the order changed meanwhile'); // rolls the transaction back
    }
    await this.history(o.deviceId, now, `${o.clientTransactionId} ${o.reference}: QR order ${decline ? `declined (${pay.DeclineReason[decline.reason]})` : 'paid'} by wallet ${acct.maskedPan}`);
    return { result: res, merchantName: q.merchantName };
  }

  // ------------------------------------------------------------ consumer-presented

  /** qr_authorize: runs inside the device request's SQLite transaction. */
  async authorize(device: DeviceRow, req: trusttap.payment.v1.IQrAuthorizeRequest, now: number): Promise<AuthorizeResponse> {
    const { repo } = this.host;
    const ctid = ctidOf(req.clientTransactionId);
    const amount = amountOf(req.amountMinor);
    const currency = currencyNumeric(req.currency);
    const code = (req.code ?? '').trim();
    if (!code || code.length > 512) throw malformed('code must be 1..512 characters');
    const recordSha = `qr-cpm:${sha256Hex(code, '\0', String(amount), '\0', currency)}`;

    // 0. Idempotency.
    const old = await repo.getPayment(device.deviceId, ctid);
    if (old) {
      if (old.recordSha256 === recordSha) return currentAnswer(old);
      return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'this client_transaction_id was used for another transaction');
    }
    if (await repo.getQrOrder(device.deviceId, ctid)) return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'this client_transaction_id was used for a QR order');

    // 1. Device, and the code's format.
    const why = await this.deviceWhy(device, req.signedToken, now);
    if (why) return await this.refuse(device, now, ctid, R.DECLINE_REASON_DEVICE_NOT_ALLOWED, why);
    let number: string, cryptogram: string | null = null;
    if (/^\d{19}$/.test(code)) {
      number = code;
    } else {
      try {
        // The application template is chosen as EMV QRCPS CPM §5.1.4–5.1.6 says (this acquirer
        // takes UnionPay applications); its PAN may sit in the common data template (62) and its
        // cryptogram in either transparent template (63 in 61, else 64 in 62).
        const cpm = parseConsumerQr(code);
        const i = selectApplication(cpm, CPM_AIDS);
        number = cpm.sensitive[i]?.pan ?? '';
        cryptogram = cpm.applications[i]?.transparentData['9F26'] ?? null;
      } catch (e) {
        if (!(e instanceof QrError)) throw e;
        return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, `the payment code is refused (EMVCo CPM): ${e.code}: ${e.message}`);
      }
      if (!cryptogram) return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'the CPM payment code carries no cryptogram (9F26 in template 63 or 64)');
    }

    // 2. Journaled from here on: the issuer redeems the code and decides.
    const reference = `QR${randomBytes(8).toString('hex').toUpperCase()}`;
    const r = await this.wallets.redeemCode(number, cryptogram, now);
    let acct: CardAccountRow | null = null;
    let decline: Decline | null, delta = 0;
    if (!r.ok) {
      decline = r.why === 'used' ? new Decline(R.DECLINE_REASON_CODE_USED, 'this payment code was already used')
        : r.why === 'expired' ? new Decline(R.DECLINE_REASON_CODE_EXPIRED, 'this payment code has expired: ask the customer to refresh it')
        : new Decline(R.DECLINE_REASON_UNKNOWN_CARD, 'the issuer does not know this payment code');
    } else {
      acct = r.account;
      ({ decline, delta } = await this.decide(acct, reference, amount, currency, now));
    }
    const res = await this.journal(device.deviceId, ctid, reference, recordSha, amount, currency, acct, decline, delta, now, 'consumer-presented', maskCode(number));
    await this.history(device.deviceId, now, `${ctid} ${reference}: consumer-presented QR ${decline ? `declined (${pay.DeclineReason[decline.reason]})` : 'approved'}`);
    return res;
  }

  // ------------------------------------------------------------ shared

  /** '' if the device may take a payment now: active, a fresh ALLOW token for its key, the gate. */
  private async deviceWhy(device: DeviceRow, signedToken: Uint8Array | null | undefined, now: number): Promise<string> {
    if (device.state !== 'active') return `device ${device.state}${device.stateReason ? `: ${device.stateReason}` : ''}`;
    try {
      const t = verifyToken(at.SignedToken.decode(signedToken ?? new Uint8Array(0)), this.host.hsm.publicKey('token'), device.publicKey, now);
      if (t.deviceId !== device.deviceId) return 'the verdict token is for another device';
      if (t.verdict !== at.Verdict.VERDICT_ALLOW) return `the verdict token says ${at.Verdict[t.verdict] ?? t.verdict}`;
    } catch (e) {
      return `verdict token: ${(e as Error).message}`;
    }
    const gate = await this.host.paymentGate(device);
    return gate.allowed ? '' : gate.reason;
  }

  /** The issuer's decision on a wallet account (the balance moves on approval); null = approved. */
  private async decide(acct: CardAccountRow, reference: string, amount: number, currency: string, now: number): Promise<{ decline: Decline | null; delta: number }> {
    const d = new Date(now);
    const date = `${String(d.getUTCFullYear()).slice(2)}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
    const r = await this.host.issuer.decide(acct, { type: 'purchase', amountMinor: amount, currency, date, reference, nowMs: now });
    if (r.ok) return { decline: null, delta: r.delta };
    const no = (reason: Reason, text: string) => ({ decline: new Decline(reason, text), delta: 0 });
    if (r.why === 'blocked') return no(R.DECLINE_REASON_BLOCKED_CARD, 'the wallet account is blocked');
    if (r.why === 'expired') return no(R.DECLINE_REASON_EXPIRED_CARD, 'the wallet account has expired');
    if (r.why === 'currency') return no(R.DECLINE_REASON_INVALID_TRANSACTION, `the issuer cannot convert currency ${currency}`);
    return no(R.DECLINE_REASON_INSUFFICIENT_FUNDS, 'insufficient funds');
  }

  /** The payments journal row and the answer (the same bytes to every retry). */
  private async journal(deviceId: string, ctid: string, reference: string, recordSha: string, amount: number, currency: string,
    acct: CardAccountRow | null, d: Decline | null, delta: number, now: number, qrMode: string, fallbackMask = ''): Promise<AuthorizeResponse> {
    const approved = !d;
    const reason = d?.reason ?? R.DECLINE_REASON_NONE;
    const bytes = pay.AuthorizeResponse.encode({
      decision: approved ? pay.Decision.DECISION_APPROVED : pay.Decision.DECISION_DECLINED, reason, reasonText: d?.text ?? 'approved',
      responseCode: RESPONSE_CODE[reason] ?? '05', authorizationCode: approved ? authCode() : '', clientTransactionId: ctid,
      amountMinor: u64(amount), currency, maskedPan: acct?.maskedPan ?? fallbackMask, journaledMs: u64(now), transactionReference: reference, qrMode,
    }).finish();
    await this.host.repo.insertPayment({
      deviceId, clientTransactionId: ctid, reference, recordSha256: recordSha, recordCounter: 0, type: 'purchase', amountMinor: amount, currency,
      accountDelta: delta, panHash: acct?.panHash ?? '', decision: approved ? 'approved' : 'declined', reason, response: bytes, createdMs: now, reversedMs: 0,
    });
    return pay.AuthorizeResponse.decode(bytes);
  }

  private async refuse(device: DeviceRow, now: number, ctid: string, reason: Reason, text: string): Promise<AuthorizeResponse> {
    await this.history(device.deviceId, now, `${ctid}: QR payment refused ${pay.DeclineReason[reason]}: ${text}`);
    return {
      decision: pay.Decision.DECISION_DECLINED, reason, reasonText: text, responseCode: RESPONSE_CODE[reason], clientTransactionId: ctid, journaledMs: u64(0),
    };
  }

  private async history(deviceId: string, now: number, detail: string): Promise<void> {
    await this.host.repo.appendHistory({ deviceId, timeMs: now, kind: 'payment', verdict: '', detail, policyVersion: await this.host.policyVersion(deviceId) });
  }

  // ------------------------------------------------------------ wallet routes

  async walletAccount(token: string, now: number): Promise<CardAccountRow> {
    const acct = await this.wallets.authenticate(token, now);
    if (!acct || acct.scheme !== 'wallet') throw new ApiError(401, ErrorCode.ERROR_UNAUTHORIZED, 'wallet routes need a valid wallet bearer token');
    return acct;
  }

  async walletCode(token: string, now: number): Promise<trusttap.payment.v1.IWalletCodeResponse> {
    const acct = await this.walletAccount(token, now);
    const c = await this.wallets.issueCode(acct, now);
    return { cpm: c.cpm, code: c.code, expiresMs: u64(c.expiresMs) };
  }

  async walletLogin(accountId: string, now: number): Promise<trusttap.payment.v1.IWalletLoginResponse> {
    const r = await this.wallets.login(accountId, now);
    if (!r) throw new ApiError(404, ErrorCode.ERROR_NOT_FOUND, `no wallet ${accountId}`);
    return { token: r.token, expiresMs: u64(r.expiresMs), maskedAccount: r.account.maskedPan };
  }

  async walletBalance(token: string, now: number): Promise<trusttap.payment.v1.IWalletBalanceResponse> {
    const acct = await this.walletAccount(token, now);
    return { maskedAccount: acct.maskedPan, balanceMinor: u64(acct.balanceMinor), currency: acct.currency };
  }
}

function ctidOf(id: string | null | undefined): string {
  if (!id || id.length > 64) throw malformed('client_transaction_id must be 1..64 characters');
  return id;
}

function amountOf(x: unknown): number {
  const n = num(x);
  if (!Number.isSafeInteger(n) || n <= 0 || n > 999_999_999_999) throw malformed('amount_minor must be a positive whole number of minor units');
  return n;
}

function currencyNumeric(c: string | null | undefined): string {
  try {
    return currencyOf(c ?? '').numeric;
  } catch {
    throw malformed(`unknown currency ${c}`);
  }
}

const maskCode = (n: string) => (n.length >= 12 ? n.slice(0, 6) + '*'.repeat(n.length - 10) + n.slice(-4) : '');

function authCode(): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}
