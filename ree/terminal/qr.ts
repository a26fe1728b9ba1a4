// QR payments through the app-facing API (Terminal.startQrPayment): the same event stream ending
// in exactly one PaymentResult as startPayment, the same typed failures with remedies, cancel()
// always ending it, clientTransactionId idempotent.
//
// Merchant-presented (dynamic): a device-signed qr_order → the acquirer's EMVCo payload (checked
// here with common/qr: CRC, amount, currency) → event qr-displayed → device-signed qr_status polls
// until PAID / DECLINED / EXPIRED / CANCELLED. cancel() cancels the order at the acquirer; an
// order a wallet paid in the same instant is reversed, so "cancelled" is true.
//
// Consumer-presented: the scanned code is checked with common/qr (CPM) or as 19 digits, then a
// device-signed qr_authorize; a lost answer is result-unknown (resolve(id) later).
import { BackendError, type BackendLink } from '../attestation/backend-link.ts';
import { parseMerchantQr } from '../../common/qr/merchant-presented.ts';
import { parseConsumerQr } from '../../common/qr/consumer-presented.ts';
import { QrError } from '../../common/qr/errors.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { type Currency } from '../../common/currency.ts';
import { checkPaymentRequest, failed, failureOf, Cancelled } from './request.ts';
import type { FailureCode, PaymentEvent, PaymentResult, QrPaymentRequest } from './types.ts';

const pay = trusttap.payment.v1;
const at = trusttap.attest.v1;
const S = pay.QrOrderState;
const num = (x: unknown) => (typeof x === 'number' ? x : x == null ? 0 : (x as { toNumber(): number }).toNumber());

/** What the QR flow needs from its Terminal. */
export interface QrDeps {
  link: BackendLink;
  enrolled: boolean;
  now(): number;
  /** A fresh ALLOW verdict token (attests again if needed; throws BackendError 403 if refused). */
  token(): Promise<trusttap.attest.v1.SignedToken>;
  persist(): void;
  /** The journaled answer as a PaymentResult (receipt with the masked account). */
  result(r: trusttap.payment.v1.IAuthorizeResponse): PaymentResult;
}

const invalid = (e: QrError, what: string): PaymentResult =>
  ({ outcome: 'failed', code: 'QR_INVALID', qrError: e.code, message: `${what}: ${e.code}: ${e.message}`, remedy: 'scan the code again; if it persists ask the customer to refresh it or use another payment method' });


export async function runQrPayment(d: QrDeps, req: QrPaymentRequest, emit: (e: PaymentEvent) => void, signal: AbortSignal): Promise<PaymentResult> {
  const checked = checkPaymentRequest(req, d.enrolled);
  if ('outcome' in checked) return checked;
  const { currency } = checked;
  if (req.mode !== 'merchant-presented' && req.mode !== 'consumer-presented') return failed('INVALID_REQUEST', `unknown QR mode ${(req as { mode: string }).mode}`, 'use merchant-presented or consumer-presented');
  try {
    return req.mode === 'merchant-presented'
      ? await merchantPresented(d, req, currency, emit, signal)
      : await consumerPresented(d, req, currency, emit, signal);
  } catch (e) {
    if (e instanceof Cancelled || (signal.aborted && !(e instanceof BackendError))) return { outcome: 'cancelled' };
    const f = failureOf(e, 'try again with the same clientTransactionId');
    if (f) return f;
    throw e;
  } finally {
    d.persist();
  }
}

type Mpm = Extract<QrPaymentRequest, { mode: 'merchant-presented' }>;
type Cpm = Extract<QrPaymentRequest, { mode: 'consumer-presented' }>;

async function merchantPresented(d: QrDeps, req: Mpm, currency: Currency, emit: (e: PaymentEvent) => void, signal: AbortSignal): Promise<PaymentResult> {
  const ctid = req.clientTransactionId;
  const token = await d.token();
  if (signal.aborted) throw new Cancelled();
  // A retry of the same id gets the same order (and its result once there is one).
  const order = await d.link.qrOrder({
    clientTransactionId: ctid, amountMinor: req.amount as never, currency: currency.numeric, ttlMs: (req.timeoutMs ?? 0) as never,
    signedToken: at.SignedToken.encode(token).finish(),
  });
  if (order.state === S.QR_ORDER_STATE_UNSPECIFIED) {
    if (order.refusedReason === pay.DeclineReason.DECLINE_REASON_DEVICE_NOT_ALLOWED) return failed('DEVICE_NOT_TRUSTED', order.refusedText, 'prepare() again; if it persists the acquirer suspended this device');
    return failed('INVALID_REQUEST', order.refusedText, 'give every payment a unique clientTransactionId');
  }
  // The payload the customer will scan: its CRC, amount and currency are checked before it is shown.
  try {
    const q = parseMerchantQr(order.payload);
    const amount = Math.round(Number(q.amount) * 10 ** currency.exponent);
    if (q.pointOfInitiation !== 'dynamic' || amount !== req.amount || q.currency !== currency.numeric || q.additionalData?.['05'] !== order.orderReference) {
      await d.link.qrStatus(ctid, true).catch(() => undefined);
      return failed('QR_INVALID', 'the acquirer\'s QR payload does not carry this payment\'s amount, currency and reference', 'contact the acquirer');
    }
  } catch (e) {
    if (!(e instanceof QrError)) throw e;
    await d.link.qrStatus(ctid, true).catch(() => undefined);
    return invalid(e, 'the acquirer\'s QR payload');
  }
  const expiresMs = num(order.expiresMs);
  let state = order;
  if (state.state === S.QR_ORDER_STATE_PENDING) emit({ type: 'qr-displayed', payload: order.payload, reference: order.orderReference, expiresMs });
  const interval = Math.max(20, req.pollIntervalMs ?? 1000);
  while (state.state === S.QR_ORDER_STATE_PENDING) {
    try {
      await sleep(interval, signal);
    } catch {
      return cancelOrder(d, ctid);
    }
    try {
      const s = await d.link.qrStatus(ctid);
      if (s.found && s.order) state = s.order as trusttap.payment.v1.QrOrder;
    } catch (e) {
      if (e instanceof BackendError && e.http !== 0 && e.http < 500) throw e;
      // Unreachable for now: keep asking until well past the order's expiry.
      if (d.now() > expiresMs + 30_000) {
        return { outcome: 'result-unknown', clientTransactionId: ctid, remedy: 'the acquirer could not be reached to learn whether the QR code was paid: call resolve(clientTransactionId) when the network is back' };
      }
    }
    if (signal.aborted) return cancelOrder(d, ctid);
  }
  return finalOf(d, state);
}

function finalOf(d: QrDeps, o: trusttap.payment.v1.IQrOrder): PaymentResult {
  switch (o.state) {
    case S.QR_ORDER_STATE_PAID: case S.QR_ORDER_STATE_DECLINED: return qrReceipt(d.result(o.result!), 'merchant-presented');
    case S.QR_ORDER_STATE_EXPIRED: return failed('QR_EXPIRED', 'the customer did not pay the QR code in time', 'start a new QR payment or take another payment method');
    case S.QR_ORDER_STATE_CANCELLED: return { outcome: 'cancelled' };
    default: return failed('BACKEND_REFUSED', `unexpected QR order state ${o.state}`, 'call resolve(clientTransactionId)');
  }
}

/** Cancels the order at the acquirer; a payment that raced the cancel is reversed. */
async function cancelOrder(d: QrDeps, ctid: string): Promise<PaymentResult> {
  try {
    const s = await d.link.qrStatus(ctid, true);
    if (s.order?.state === S.QR_ORDER_STATE_PAID) await d.link.reverse(ctid);
    return { outcome: 'cancelled' };
  } catch {
    return { outcome: 'result-unknown', clientTransactionId: ctid, remedy: 'the cancellation did not reach the acquirer: call resolve(clientTransactionId), and reverse(clientTransactionId) if it was paid' };
  }
}

async function consumerPresented(d: QrDeps, req: Cpm, currency: Currency, emit: (e: PaymentEvent) => void, signal: AbortSignal): Promise<PaymentResult> {
  const code = (req.code ?? '').trim();
  if (!/^\d{19}$/.test(code)) {
    try {
      parseConsumerQr(code);
    } catch (e) {
      if (e instanceof QrError) return invalid(e, 'the customer\'s payment code');
      throw e;
    }
  }
  const ctid = req.clientTransactionId;
  // A retry of an id the acquirer already has: its answer, never a second charge.
  const known = await d.link.transactionStatus(ctid).catch(() => null);
  if (known?.found && known.result) {
    // A reversed approval is 'reversed' (resultOf); a tombstone (reversed, never approved) is 'cancelled'.
    const reversedApproval = known.result.decision === pay.Decision.DECISION_REVERSED;
    return known.reversed && !reversedApproval ? { outcome: 'cancelled' } : qrReceipt(d.result(known.result), 'consumer-presented');
  }
  const token = await d.token();
  if (signal.aborted) throw new Cancelled();
  emit({ type: 'processing' });
  let res: trusttap.payment.v1.AuthorizeResponse;
  try {
    res = await d.link.qrAuthorize({ clientTransactionId: ctid, amountMinor: req.amount as never, currency: currency.numeric, code, signedToken: at.SignedToken.encode(token).finish() });
  } catch (e) {
    if (e instanceof BackendError) throw e;
    return { outcome: 'result-unknown', clientTransactionId: ctid, remedy: 'call resolve(clientTransactionId) when the network is back; the same id never charges twice' };
  }
  if (signal.aborted) {
    if (res.decision === pay.Decision.DECISION_APPROVED) await d.link.reverse(ctid).catch(() => undefined);
    return { outcome: 'cancelled' };
  }
  return qrReceipt(d.result(res), 'consumer-presented');
}

/** The receipt of a QR payment (Terminal's resultOf already marks it from qr_mode). */
function qrReceipt(r: PaymentResult, mode: 'merchant-presented' | 'consumer-presented'): PaymentResult {
  if ('receipt' in r) {
    r.receipt.qr ??= mode;
    r.receipt.application = 'QR wallet';
  }
  return r;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Cancelled());
    const onAbort = () => { clearTimeout(t); reject(new Cancelled()); };
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** resolve() for an id the payments journal does not hold: the QR order's state, if there is one. */
export async function resolveQrOrder(link: BackendLink, clientTransactionId: string): Promise<PaymentResult | null> {
  const s = await link.qrStatus(clientTransactionId).catch(() => null);
  if (!s?.found || !s.order) return null;
  switch (s.order.state) {
    case S.QR_ORDER_STATE_EXPIRED: return failed('QR_EXPIRED', 'the customer did not pay the QR code in time', 'start a new QR payment or take another payment method');
    case S.QR_ORDER_STATE_CANCELLED: return { outcome: 'cancelled' };
    case S.QR_ORDER_STATE_PENDING: return { outcome: 'result-unknown', clientTransactionId, remedy: `the QR order is still open until ${new Date(num(s.order.expiresMs)).toISOString()}: resolve again later` };
    default: return null;
  }
}
