// The app-facing payment API's vocabulary: one request, a stream of events, exactly one result.
// Shaped like Apple ProximityReader / Stripe Terminal / SumUp Tap to Pay: the app sees masked
// data only — never a PAN, a PIN or a key.

import type { QrErrorCode } from '../../common/qr/errors.ts';

export type PaymentType = 'purchase' | 'refund';

export interface PaymentRequest {
  /** Minor units (cents, fen). */
  amount: number;
  /** ISO 4217 alpha (CNY, USD, EUR, …) or numeric ('156'). */
  currency: string;
  type?: PaymentType;
  /** The app's id for this payment: retrying with the same id never charges twice. */
  clientTransactionId: string;
  /** How long to wait for a card (default 60 s). */
  timeoutMs?: number;
}

/** A QR payment (Terminal.startQrPayment). */
export type QrPaymentRequest =
  | {
    /** Dynamic merchant-presented QR: the acquirer makes an order, the app shows its payload. */
    mode: 'merchant-presented';
    amount: number;
    currency: string;
    clientTransactionId: string;
    /** How long the customer has to pay (default 120 s; 10 s .. 15 min). */
    timeoutMs?: number;
    /** How often the order's state is asked (default 1 s). */
    pollIntervalMs?: number;
  }
  | {
    /** The customer's payment code, scanned by the app: EMVCo CPM (Base64) or 19 digits. */
    mode: 'consumer-presented';
    code: string;
    amount: number;
    currency: string;
    clientTransactionId: string;
  };

export type PaymentEvent =
  | { type: 'qr-displayed'; payload: string; reference: string; expiresMs: number }
  | { type: 'card-requested' }
  | { type: 'card-presented' }
  | { type: 'card-read'; message: 'remove-card' }
  /** The customer's phone wallet asks them to verify on the phone (Kernel 2 "See Phone"), then
   *  to tap again: `tap` is the number of the tap now awaited (2 for the second). */
  | { type: 'see-phone'; tap: number }
  | { type: 'pin-requested' }
  | { type: 'pin-entered' }
  | { type: 'processing' };

/** Stable reason codes for `failed`, each with a remedy the app can show. */
export type FailureCode =
  | 'NOT_ENROLLED' | 'NOT_PREPARED' | 'DEVICE_NOT_TRUSTED' | 'NO_PAYMENT_KEYS' | 'KEYS_EXHAUSTED'
  | 'NO_CARD' | 'CARD_READ_ERROR' | 'CARD_NOT_SUPPORTED' | 'CARD_DECLINED_OFFLINE' | 'TRY_AGAIN' | 'AMOUNT_OVER_LIMIT'
  | 'PIN_ENTRY_FAILED' | 'PIN_LOCKED' | 'TEE_ERROR' | 'INVALID_REQUEST'
  | 'QR_INVALID' | 'QR_EXPIRED'
  /** The acquirer refused this app's client code (issue 16 §2): not a release it allows, revoked,
   * or altered; the back end's reason is in `message`. */
  | 'CLIENT_NOT_ALLOWED'
  /** The back end answered with an HTTP error (its status in `httpStatus`). */
  | 'BACKEND_REFUSED'
  /** No answer from the back end at all (connection refused, DNS, network down). */
  | 'BACKEND_UNREACHABLE'
  /** The terminal configuration has no contactless limits for this currency. */
  | 'CURRENCY_NOT_CONFIGURED'
  /** The acquirer is unreachable and a limit of the offline policy is reached (the message names
   * it): no more offline payments until the device reconnects and uploads its queue. */
  | 'OFFLINE_LIMIT'
  /** The TEE's offline queue failed its integrity or rollback check (altered or restored). */
  | 'OFFLINE_QUEUE_INVALID';

export interface Receipt {
  clientTransactionId: string;
  transactionReference: string;
  type: PaymentType;
  amount: number;
  currency: string;
  maskedPan: string;
  application: string;
  aid: string;
  cvm: 'NO_CVM' | 'ONLINE_PIN' | 'CDCVM';
  authorizationCode: string;
  responseCode: string;
  merchantId: string;
  terminalId: string;
  timestampMs: number;
  /** QR payments: which mode (the masked PAN is then the wallet account's). */
  qr?: 'merchant-presented' | 'consumer-presented';
  /** Approved offline by this terminal (response code Y3, no authorization code yet): the
   * acquirer authorizes it when the queue is uploaded. */
  offline?: true;
}

export type PaymentResult =
  | { outcome: 'approved'; receipt: Receipt }
  /** The acquirer could not be reached and the signed offline policy allowed it: signed and
   * queued in the TEE, uploaded in order on reconnect (Terminal.onOfflineUpload). */
  | { outcome: 'approved-offline'; receipt: Receipt }
  | { outcome: 'declined'; reason: string; reasonText: string; receipt: Receipt }
  | { outcome: 'result-unknown'; clientTransactionId: string; remedy: string }
  | { outcome: 'cancelled' }
  /** Approved, then reversed at the acquirer (reverse(), or a cancel that raced the approval):
   * no money moved; the receipt is the original approval's, for the merchant's records. */
  | { outcome: 'reversed'; receipt: Receipt; reversedMs: number }
  | { outcome: 'failed'; code: FailureCode; message: string; remedy: string; qrError?: QrErrorCode; httpStatus?: number };

/** Terminal.onOfflineUpload: queued offline payments reached the acquirer, each with its result
 * there ('approved', or 'declined' — a decline after the fact); `remaining` are still queued. */
export interface OfflineUploadEvent {
  type: 'offline-uploaded';
  results: PaymentResult[];
  remaining: number;
}

export interface Capability {
  qr: boolean;
  contactless: boolean;
  /** Online PIN on the trusted UI (pinpad TA). */
  pin: boolean;
  /** Where the keys live: 'tee' (this toolkit), or 'none'. */
  keyStorage: 'tee' | 'none';
  missing: { what: string; reason: string; remedy: string }[];
}

export class PaymentSession {
  private readonly queue: PaymentEvent[] = [];
  private waiters: ((r: IteratorResult<PaymentEvent>) => void)[] = [];
  private done = false;
  readonly result: Promise<PaymentResult>;
  private readonly abort = new AbortController();

  constructor(run: (emit: (e: PaymentEvent) => void, signal: AbortSignal) => Promise<PaymentResult>) {
    this.result = run((e) => this.push(e), this.abort.signal).finally(() => this.end());
  }

  /** Always works and always ends the stream: with 'cancelled' unless an answer already came. */
  cancel(): void {
    this.abort.abort();
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private push(e: PaymentEvent): void {
    if (this.done) return;
    const w = this.waiters.shift();
    if (w) w({ value: e, done: false });
    else this.queue.push(e);
  }

  private end(): void {
    this.done = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  /** The events, in order; the iteration ends when the payment has its result. */
  get events(): AsyncIterable<PaymentEvent> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          const e = this.queue.shift();
          if (e) return Promise.resolve({ value: e, done: false });
          if (this.done) return Promise.resolve({ value: undefined, done: true });
          return new Promise<IteratorResult<PaymentEvent>>((r) => this.waiters.push(r));
        },
      }),
    };
  }
}
