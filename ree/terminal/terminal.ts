// The one typed API an app calls to take payments: checkCapability → enroll → prepare →
// startPayment (an event stream ending in exactly one result) / startQrPayment, with resolve()
// and reverse() for a result the app never learned. It drives the TEE only through the client
// API, the card only through a CardTransport and the back end only through BackendLink. When the
// back end cannot be reached and its signed offline policy allows, a payment is approved offline
// and queued in the txsign TA (./offline.ts); the queue goes up, in order, before anything else.
import { TeeContext, TeeError, KeystoreClient, TxsignClient, tx, type TeeTransport } from '../tee-client/index.ts';
import { AttestClient } from '../attestation/client.ts';
import { HealthCollector, type HealthSource } from '../attestation/collector.ts';
import type { ClientMeasurement } from '../attestation/client-measurement.ts';
import { BackendLink, BackendError } from '../attestation/backend-link.ts';
import { PinpadClient, type PinFormat } from '../pin/pin-entry.ts';
import { runEntryPoint } from '../emv/entry-point.ts';
import type { TerminalConfig } from '../../common/emv/config.ts';
import type { Outcome } from '../emv/outcome.ts';
import { decodeTlv, encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import type { CardTransport } from '../nfc/transport.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { Status } from '../../proto/status.ts';
import { currencyOf, type Currency } from '../../common/currency.ts';
import { fromHex, toHex } from '../../common/hex.ts';
import { fromBase64, toBase64 } from '../../common/base64.ts';
import { checkPaymentRequest, failed, failureOf, Cancelled } from './request.ts';
import { MemoryStateStore, type StateStore, type TerminalState } from './state.ts';
import {
  PaymentSession, type Capability, type FailureCode, type PaymentEvent, type PaymentRequest, type PaymentResult, type Receipt, type QrPaymentRequest,
  type OfflineUploadEvent,
} from './types.ts';
import { neverSent, offlineUsable, offlineFailure, offlineReceipt } from './offline.ts';
import { isNetworkError } from './request.ts';
import { runQrPayment, resolveQrOrder } from './qr.ts';
import { readCardOutcome } from './card-outcome.ts';
import { RelayMonitor } from '../attestation/relay-monitor.ts';
import { TimedTransport } from '../nfc/timing.ts';
import { systemClock, type MonotonicClock } from '../emv/relay-resistance.ts';

const pay = trusttap.payment.v1;
const at = trusttap.attest.v1;
const hex = toHex;
const unhex = (h: string) => fromHex(h);
const b64 = (b: Uint8Array) => toBase64(b);
const unb64 = (s: string) => fromBase64(s);

export interface TerminalOptions {
  /** The TEE driver (the reference runtime's InProcessTeeDriver, or a phone's). */
  tee: TeeTransport;
  /** The acquirer back end. */
  backendUrl: string;
  /** Where REE health signals come from (the platform's root/hook/emulator checks). */
  health: HealthSource;
  /** The acquirer's kernel configuration, already signature-checked (loadSignedConfig). */
  kernelConfig: TerminalConfig;
  /** The phone's NFC reader, or null if it has none. */
  nfc: CardTransport | null;
  state?: StateStore;
  /** The measurement of this client's code, signed into every evidence (issue 16 §2): from the
   * platform's app attestation on a product (platformClientMeasurement), or the reference
   * client's own bundle hash (measureClientBundle; Node: measureClientFile from trusttap/node).
   * Without one, an acquirer that keeps a client allowlist refuses the device (NOT_MEASURED). */
  client?: ClientMeasurement;
  /** PIN block format: ISO 9564 format 4 under AES DUKPT (default) or format 0 under TDES DUKPT. */
  pinFormat?: PinFormat;
  /** Tests: the kernel's unpredictable-number source and the clock. */
  unpredictableNumber?: (n: number) => Uint8Array;
  now?: () => number;
  /** Monotonic clock for Kernel 2 relay resistance and APDU timing (performance.now() by default;
   *  tests share a simulated one with the card simulator). */
  clock?: MonotonicClock;
  /** An APDU round trip above this many µs is reported as a timing anomaly (default 100 ms). */
  apduAnomalyUs?: number;
}

/** How many times a payment goes back to the card after "See Phone" (Book C-2 restart). */
export const MAX_SEE_PHONE_RESTARTS = 2;


export class Terminal {
  private token: { signed: trusttap.attest.v1.SignedToken; expiresMs: number } | null = null;
  /** Records queued offline as last read from the TEE (null: not read yet). */
  private queued: number | null = null;
  private readonly uploadListeners = new Set<(e: OfflineUploadEvent) => void>();
  private constructor(
    private readonly opts: TerminalOptions,
    readonly ctx: TeeContext,
    readonly link: BackendLink,
    private readonly store: StateStore,
    private state: TerminalState | null,
    private readonly relay: RelayMonitor,
    private readonly nfc: CardTransport | null,
  ) {}

  static async open(opts: TerminalOptions): Promise<Terminal> {
    const ctx = await TeeContext.initialize(opts.tee);
    const attest = await AttestClient.open(ctx);
    const store = opts.state ?? new MemoryStateStore();
    const state = store.load();
    // Relay evidence (issue 14): the kernel's relay resistance results and every APDU's round
    // trip go into the health signals of the next attestation or heartbeat.
    const relay = new RelayMonitor(opts.apduAnomalyUs);
    const clock = opts.clock ?? systemClock;
    const nfc = opts.nfc ? new TimedTransport(opts.nfc, clock, (us) => relay.roundTrip(us)) : null;
    const link = new BackendLink(opts.backendUrl, attest, new HealthCollector(opts.health, undefined, relay), state ? {
      deviceId: state.deviceId, lastCounter: state.lastCounter,
      keys: state.keys ? { response: unb64(state.keys.response), token: unb64(state.keys.token), keyAgreement: unb64(state.keys.keyAgreement) } : null,
    } : {});
    link.client = opts.client ?? null;
    return new Terminal(opts, ctx, link, store, state, relay, nfc);
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private persist(): void {
    if (!this.state) return;
    this.state.lastCounter = this.link.state.lastCounter;
    const k = this.link.state.keys;
    this.state.keys = k ? { response: b64(k.response), token: b64(k.token), keyAgreement: b64(k.keyAgreement) } : null;
    this.store.save(this.state);
  }

  get enrolled(): boolean {
    return !!this.state?.deviceId;
  }

  /** What this phone can do, and for anything missing, why and what to do. */
  async checkCapability(): Promise<Capability> {
    const missing: Capability['missing'] = [];
    const has = async (ta: string) => {
      try { const s = await this.ctx.openSession(ta); await s.ping(); await s.close(); return true; } catch { return false; }
    };
    const [keystore, pinpad, txsign, attest] = await Promise.all(['keystore', 'pinpad', 'txsign', 'attest'].map(has));
    const tee = keystore && txsign && attest;
    // The pinpad TA answering is not enough: the keypad is drawn by the TEE's trusted UI, which
    // the TA probes for (StatusResponse.trusted_ui).
    const trustedUi = pinpad && await this.pinpadHasTrustedUi();
    if (!tee) missing.push({ what: 'trusted execution environment', reason: 'the TrustTap trusted apps do not answer', remedy: 'install the TrustTap TAs for this phone (phone maker) or use QR payments' });
    if (!this.nfc) missing.push({ what: 'NFC', reason: 'this phone has no NFC reader or it is off', remedy: 'turn NFC on, or take QR payments' });
    if (!pinpad) missing.push({ what: 'PIN entry', reason: 'the pinpad trusted app does not answer', remedy: 'payments above the CVM limit cannot be taken' });
    else if (!trustedUi) {
      missing.push({
        what: 'PIN entry', reason: 'this TEE has no trusted UI to show the PIN keypad on',
        remedy: 'card payments above the CVM limit (which need a PIN) cannot be taken on this phone: take smaller amounts, CDCVM (phone wallets) or QR; a phone whose TEE has a trusted display can take PINs',
      });
    }
    if (!this.enrolled) missing.push({ what: 'enrolment', reason: 'this device is not enrolled with an acquirer', remedy: 'enroll(activationCode) with the code from the merchant portal' });
    return { qr: true, contactless: tee && !!this.nfc, pin: trustedUi, keyStorage: tee ? 'tee' : 'none', missing };
  }

  private async pinpadHasTrustedUi(): Promise<boolean> {
    try {
      const pinpad = await PinpadClient.open(this.ctx);
      try { return (await pinpad.status()).trustedUi; } finally { await pinpad.close(); }
    } catch {
      return false;
    }
  }

  /** Enrols with a one-time activation code, pins the back end's keys in the TEE and receives
   * the payment keys by remote key injection. */
  async enroll(activationCode: string): Promise<{ deviceId: string; merchantId: string; terminalId: string; keyCheckValues: string[] }> {
    const e = await this.link.enrol(activationCode);
    const pinpad = await PinpadClient.open(this.ctx);
    try { await pinpad.provision(e.tokenPublicKey); } finally { await pinpad.close(); }
    this.state = { deviceId: e.deviceId, merchantId: e.merchantId, terminalId: e.terminalId, lastCounter: 0, keys: null, dukptKeyId: 'dukpt' };
    this.persist();
    await this.refreshToken();
    const { kekKeyId, keys } = await this.link.injectKeys();
    const keystore = await KeystoreClient.open(this.ctx);
    const kcvs: string[] = [];
    try {
      for (const [i, k] of keys.entries()) {
        const id = i === 0 ? this.state.dukptKeyId : `injected-${i}`;
        await keystore.deleteKey(id).catch(() => undefined);
        kcvs.push(hex((await keystore.importKeyBlock(id, kekKeyId, k.tr31)).kcv));
      }
    } finally {
      await keystore.close();
    }
    this.persist();
    return { deviceId: e.deviceId, merchantId: e.merchantId, terminalId: e.terminalId, keyCheckValues: kcvs };
  }

  private async refreshToken(): Promise<trusttap.attest.v1.SignedToken> {
    const { token, signed, offlinePolicy } = await this.link.attestNow();
    this.persist();
    // Every attestation brings the device's offline policy (no limits unless ALLOW), which also
    // acknowledges the records the back end journaled: the TA drops those from its queue.
    if (offlinePolicy && this.link.state.keys) {
      const txsign = await TxsignClient.open(this.ctx);
      try {
        this.queued = (await txsign.setOfflinePolicy(offlinePolicy, this.link.state.keys.token)).queue.length;
      } finally {
        await txsign.close();
      }
    }
    if (token.verdict !== at.Verdict.VERDICT_ALLOW) {
      this.token = null;
      throw new BackendError(403, at.ErrorCode.ERROR_ATTESTATION_REFUSED, `attestation verdict ${at.Verdict[token.verdict]}: ${(token.reasons ?? []).join(', ')}`);
    }
    this.token = { signed, expiresMs: Number(token.expiresMs) };
    return signed;
  }

  private async freshToken(): Promise<trusttap.attest.v1.SignedToken> {
    if (this.token && this.token.expiresMs - this.now() > 30_000) return this.token.signed;
    return this.refreshToken();
  }

  /** The slow work before checkout: a fresh attestation and the payment keys checked. */
  async prepare(): Promise<{ verdict: 'allow'; transactionsLeft: number }> {
    if (!this.enrolled) throw new Error('not enrolled: call enroll(activationCode) first');
    await this.refreshToken();
    await this.uploadOffline();
    const keystore = await KeystoreClient.open(this.ctx);
    try {
      const s = await keystore.dukptStatus(this.state!.dukptKeyId);
      return { verdict: 'allow', transactionsLeft: s.transactionsLeft };
    } finally {
      await keystore.close();
    }
  }

  /** Takes one contactless payment. */
  startPayment(req: PaymentRequest): PaymentSession {
    return new PaymentSession((emit, signal) => this.runPayment(req, emit, signal));
  }

  /** Takes one QR payment: merchant-presented (the acquirer's dynamic code shown on this phone,
   * event qr-displayed, paid by the customer's wallet) or consumer-presented (the customer's
   * payment code, scanned by the app). Same stream, results and cancel() as startPayment. */
  startQrPayment(req: QrPaymentRequest): PaymentSession {
    return new PaymentSession((emit, signal) => runQrPayment({
      link: this.link, enrolled: this.enrolled, now: () => this.now(), token: () => this.freshToken(), persist: () => this.persist(),
      result: (r) => this.resultOf(r, null),
    }, req, emit, signal));
  }

  /** Called after each upload of offline payments (prepare(), or before an online payment);
   * returns the function that unsubscribes. */
  onOfflineUpload(listener: (e: OfflineUploadEvent) => void): () => void {
    this.uploadListeners.add(listener);
    return () => this.uploadListeners.delete(listener);
  }

  /** The payments approved offline and not yet uploaded, oldest first. */
  async offlineQueue(): Promise<Receipt[]> {
    const s = await this.offlineStatus();
    return s.queue.map((q) => this.queuedReceipt(q));
  }

  private async offlineStatus(): Promise<trusttap.txsign.v1.OfflineStatus> {
    const txsign = await TxsignClient.open(this.ctx);
    try {
      const s = await txsign.offlineStatus();
      this.queued = s.queue.length;
      return s;
    } finally {
      await txsign.close();
    }
  }

  private queuedReceipt(q: trusttap.txsign.v1.IQueuedRecord, cvm?: Receipt['cvm']): Receipt {
    return offlineReceipt(q, { merchantId: this.state?.merchantId ?? '', terminalId: this.state?.terminalId ?? '' }, applicationOf, cvm);
  }

  /** Uploads the offline queue, in order (idempotent: the acquirer answers a record it already
   * journaled with that answer), then attests so the TA receives the acknowledgement. Stops at
   * the first record the acquirer refuses without journaling (e.g. this device is not allowed
   * now): it stays queued, ahead of everything after it. Network errors are thrown. */
  async uploadOffline(): Promise<OfflineUploadEvent> {
    const s = this.queued === 0 ? null : await this.offlineStatus();
    if (!s || s.queue.length === 0) return { type: 'offline-uploaded', results: [], remaining: 0 };
    const results: PaymentResult[] = [];
    for (const q of s.queue) {
      const token = await this.freshToken();
      const res = await this.link.authorize({
        signedTransaction: q.signedTransaction, signedToken: at.SignedToken.encode(token).finish(),
        cvm: q.cvm === tx.OfflineCvm.OFFLINE_CVM_CDCVM ? pay.Cvm.CVM_CDCVM : pay.Cvm.CVM_NO_CVM, aid: q.aid,
      }).finally(() => this.persist());
      const cvm = q.cvm === tx.OfflineCvm.OFFLINE_CVM_CDCVM ? 'CDCVM' : 'NO_CVM';
      results.push(this.resultOf(res, q.aid ?? '', cvm, this.queuedReceipt(q).type));
      if (Number(res.journaledMs) === 0) break; // refused, not journaled: it stays first in the queue
    }
    await this.refreshToken();
    const e: OfflineUploadEvent = { type: 'offline-uploaded', results, remaining: this.queued ?? 0 };
    for (const l of this.uploadListeners) l(e);
    return e;
  }

  /** The result of a payment whose answer the app never learned (the same id never charges twice). */
  async resolve(clientTransactionId: string): Promise<PaymentResult> {
    // Still in the TEE's offline queue: approved offline, not uploaded yet.
    const waiting = (await this.offlineStatus()).queue.find((q) => q.clientTransactionId === clientTransactionId);
    if (waiting) return { outcome: 'approved-offline', receipt: this.queuedReceipt(waiting) };
    const r = await this.link.transactionStatus(clientTransactionId);
    if (!r.found || !r.result) return (await resolveQrOrder(this.link, clientTransactionId)) ?? failed('INVALID_REQUEST', `no payment ${clientTransactionId} reached the acquirer`, 'start the payment again');
    // An approval that was reversed answers DECISION_REVERSED (resultOf: 'reversed'); a reversal
    // journaled before any authorization (a tombstone) is a decline marked reversed: nothing moved.
    if (r.reversed && r.result.decision !== pay.Decision.DECISION_REVERSED) return { outcome: 'cancelled' };
    return this.resultOf(r.result, null);
  }

  /** Reverses a payment (e.g. one whose result the customer never saw). */
  async reverse(clientTransactionId: string): Promise<boolean> {
    return (await this.link.reverse(clientTransactionId)).reversed;
  }

  async close(): Promise<void> {
    await this.ctx.finalize();
  }

  private async runPayment(req: PaymentRequest, emit: (e: PaymentEvent) => void, signal: AbortSignal): Promise<PaymentResult> {
    const checked = checkPaymentRequest(req, this.enrolled);
    if ('outcome' in checked) return checked;
    const { currency } = checked;
    if (!this.nfc) return failed('CARD_READ_ERROR', 'no NFC reader', 'turn NFC on or use QR');
    // A currency the acquirer's signed configuration has no reader limits for cannot be taken by
    // any kernel: say so before the customer taps, not as an amount over a limit.
    const numeric = currency.numeric.padStart(4, '0');
    if (!this.opts.kernelConfig.combinations.some((c) => c.limits.some((l) => l.currency === numeric))) {
      return failed('CURRENCY_NOT_CONFIGURED', `card payments in ${currency.alpha} are not configured on this terminal (no contactless limits for it)`,
        `take the payment in a configured currency or by QR; the acquirer adds ${currency.alpha} limits to the terminal configuration`);
    }
    const nfc = this.nfc;
    const type = req.type ?? 'purchase';
    try {
      // A retry of an id queued offline: that approval, never a second one.
      const status = await this.offlineStatus();
      const waiting = status.queue.find((q) => q.clientTransactionId === req.clientTransactionId);
      if (waiting) return { outcome: 'approved-offline', receipt: this.queuedReceipt(waiting) };
      // A retry of an id the acquirer already has: its answer, never a second charge.
      const known = await this.link.transactionStatus(req.clientTransactionId).catch(() => null);
      if (known?.found && known.result) {
        return known.reversed && known.result.decision !== pay.Decision.DECISION_REVERSED ? { outcome: 'cancelled' } : this.resultOf(known.result, null);
      }
      // Online: the offline queue goes up first (the acquirer accepts record counters only in
      // order), then a fresh verdict. No answer at all, and a usable offline policy: offline.
      let offline = false;
      try {
        if (status.queue.length) await this.uploadOffline();
        await this.freshToken();
      } catch (e) {
        if (!isNetworkError(e) || type === 'refund' || !offlineUsable(status, this.now())) throw e;
        offline = true;
      }
      if (signal.aborted) throw new Cancelled();

      emit({ type: 'card-requested' });
      await waitForCard(nfc, req.timeoutMs ?? 60_000, signal);
      emit({ type: 'card-presented' });
      const d = new Date(this.now());
      const ymd = `${String(d.getUTCFullYear()).slice(2)}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
      const hms = `${String(d.getUTCHours()).padStart(2, '0')}${String(d.getUTCMinutes()).padStart(2, '0')}${String(d.getUTCSeconds()).padStart(2, '0')}`;
      const read = async () => {
        const o = await runEntryPoint(nfc, this.opts.kernelConfig,
          { amount: req.amount, currency: currency.numeric.padStart(4, '0'), date: ymd, time: hms, type: type === 'refund' ? '20' : '00' },
          { random: this.opts.unpredictableNumber, clock: this.opts.clock, onProgress: (e) => { if (e.type === 'CARD_READ') emit({ type: 'card-read', message: 'remove-card' }); } });
        this.relay.cardRead(o.relayResistance);
        return o;
      };
      let outcome = await read();
      // "See Phone" (Book C-2 End Application with restart B; Book A UI request): the wallet
      // wants its holder verified on the phone. The app shows it, the customer unlocks the
      // wallet and taps again; the second read carries the on-device CVM.
      for (let restarts = 0; outcome.restart === 'B' && outcome.ui.message === 'SEE_PHONE' && restarts < MAX_SEE_PHONE_RESTARTS; restarts++) {
        outcome.sensitive?.fill(0);
        if (signal.aborted) throw new Cancelled();
        emit({ type: 'see-phone', tap: restarts + 2 });
        await waitForCard(nfc, req.timeoutMs ?? 60_000, signal);
        emit({ type: 'card-presented' });
        outcome = await read();
      }
      return await this.afterCard(req, type, currency, outcome, emit, signal, offline);
    } catch (e) {
      if (e instanceof Cancelled || signal.aborted) return { outcome: 'cancelled' };
      if (e instanceof NoCard) return failed('NO_CARD', 'no card was presented in time', 'ask the customer to tap again');
      const off = offlineFailure(e); // the offline queue failing its seal or rollback check
      if (off) return off;
      const f = failureOf(e);
      if (f) return f;
      throw e;
    }
  }

  private async afterCard(req: PaymentRequest, type: 'purchase' | 'refund', currency: Currency, o: Outcome,
    emit: (e: PaymentEvent) => void, signal: AbortSignal, offline: boolean): Promise<PaymentResult> {
    const sensitive = o.sensitive;
    try {
      const read = readCardOutcome(o, currency, this.now());
      if ('result' in read) return read.result;
      if (signal.aborted) throw new Cancelled();
      const { cvm, sensitive: cardData } = read;
      // A read the kernel's relay resistance flagged (issue 14) goes to the acquirer or nowhere:
      // offline, nobody would check it before the goods are gone.
      const relayed = o.relayResistance?.timeLimitsExceeded === true;
      if (offline) {
        if (relayed) return failed('BACKEND_UNREACHABLE', 'the acquirer is unreachable and the card read was flagged as relayed (relay resistance time limits exceeded): it cannot be taken offline', 'check the network, then try again online');
        if (cvm === 'ONLINE_PIN') return failed('BACKEND_UNREACHABLE', 'the acquirer is unreachable and a payment with online PIN cannot be taken offline', 'check the network, then try again; offline, only amounts below the CVM limit or CDCVM (a phone wallet)');
        emit({ type: 'processing' });
        return await this.approveOffline(req, type, currency, o, cvm, read.card.aid, cardData);
      }
      let pin: { block: Uint8Array; ksn: Uint8Array; format: PinFormat } | null = null;
      if (cvm === 'ONLINE_PIN') {
        emit({ type: 'pin-requested' });
        const r = await this.enterPin(panOf(cardData), req.amount, currency, signal);
        if ('result' in r) return r.result;
        pin = r;
        emit({ type: 'pin-entered' });
      }
      if (signal.aborted) throw new Cancelled();
      emit({ type: 'processing' });
      const signedTx = await this.sign(req, type, currency, o, pin?.ksn, cardData);
      const r = await this.authorize(req, type, signedTx, cvm, pin, read.card.aid, signal);
      // The authorization never left the phone (no connection): without a PIN, it may go offline
      // under the policy instead (the unsent record's counter is simply skipped).
      if (r === NOT_SENT && !relayed && cvm !== 'ONLINE_PIN' && type === 'purchase' && offlineUsable(await this.offlineStatus(), this.now())) {
        return await this.approveOffline(req, type, currency, o, cvm, read.card.aid, cardData);
      }
      return r === NOT_SENT ? { outcome: 'result-unknown', clientTransactionId: req.clientTransactionId, remedy: RESOLVE_LATER } : r;
    } finally {
      sensitive?.fill(0);
    }
  }

  private async enterPin(pan: string, amount: number, currency: Currency, signal: AbortSignal)
    : Promise<{ block: Uint8Array; ksn: Uint8Array; format: PinFormat } | { result: PaymentResult }> {
    const pinpad = await PinpadClient.open(this.ctx);
    try {
      const r = await pinpad.enter({
        pan, amountMinor: amount, currency: currency.numeric, currencyExponent: currency.exponent,
        format: this.opts.pinFormat ?? 'iso4', keySetId: this.state!.dukptKeyId, signal,
        attest: async (nonce) => {
          const { token, signed } = await this.link.attestNow(nonce);
          if (token.verdict !== at.Verdict.VERDICT_ALLOW) throw new BackendError(403, at.ErrorCode.ERROR_ATTESTATION_REFUSED, `attestation before PIN entry: ${at.Verdict[token.verdict]}`);
          return { token: signed.token!, signature: signed.signature! };
        },
      });
      switch (r.kind) {
        case 'pin-block': return { block: r.encryptedPinBlock, ksn: r.ksn, format: r.format };
        case 'cancelled': case 'aborted': return { result: { outcome: 'cancelled' } };
        case 'locked-out': return { result: failed('PIN_LOCKED', `PIN entry is locked for ${Math.ceil(r.retryAfterMs / 1000)} s after ${r.failures} failed entries`, 'wait, or take another payment method') };
        case 'token-refused': return { result: failed('DEVICE_NOT_TRUSTED', `the PIN pad refused the attestation (${r.reason})`, 'prepare() again; if it persists the device is not trusted') };
        default: return { result: failed('PIN_ENTRY_FAILED', `PIN entry ended: ${r.kind}`, 'start the payment again') };
      }
    } catch (e) {
      // The pinpad TA answers NOT_SUPPORTED when the TEE has no trusted UI (checkCapability
      // reports it as pin: false): not something a restart fixes.
      if (e instanceof TeeError && e.status === Status.ERROR_NOT_SUPPORTED) {
        return { result: failed('PIN_ENTRY_FAILED', 'this TEE has no trusted UI to show the PIN keypad on', 'take the payment below the CVM limit, with CDCVM (a phone wallet) or by QR') };
      }
      throw e;
    } finally {
      await pinpad.close().catch(() => undefined);
    }
  }

  private record(req: PaymentRequest, type: 'purchase' | 'refund', currency: Currency, o: Outcome, pinKsn: Uint8Array | undefined) {
    const online = o.onlineData!;
    const cryptogramData = encodeTlv(Object.entries(online).filter(([t]) => t !== '9F26').map(([t, v]) => [t, unhex(v)] as TlvEntry));
    return {
      type: type === 'refund' ? tx.TransactionType.TRANSACTION_TYPE_REFUND : tx.TransactionType.TRANSACTION_TYPE_PURCHASE,
      amountMinor: req.amount, currency: currency.numeric, merchantId: this.state!.merchantId, terminalId: this.state!.terminalId,
      applicationCryptogram: unhex(online['9F26'] ?? ''), cryptogramData, maskedPan: o.card!.maskedPan ?? '',
      pinKsn: pinKsn ?? new Uint8Array(0), timestampMs: this.now(), clientTransactionId: req.clientTransactionId,
    };
  }

  private async sign(req: PaymentRequest, type: 'purchase' | 'refund', currency: Currency, o: Outcome, pinKsn: Uint8Array | undefined, sensitive: Uint8Array): Promise<Uint8Array> {
    const txsign = await TxsignClient.open(this.ctx);
    try {
      return (await txsign.sign(this.record(req, type, currency, o, pinKsn), this.state!.dukptKeyId, sensitive)).bytes;
    } finally {
      await txsign.close();
    }
  }

  /** Signs the record as approved offline and queues it in the TEE; the TA decides the limits. */
  private async approveOffline(req: PaymentRequest, type: 'purchase' | 'refund', currency: Currency, o: Outcome, cvm: Receipt['cvm'], aid: string, sensitive: Uint8Array): Promise<PaymentResult> {
    const txsign = await TxsignClient.open(this.ctx);
    try {
      await txsign.signOffline(this.record(req, type, currency, o, undefined), this.state!.dukptKeyId,
        cvm === 'CDCVM' ? tx.OfflineCvm.OFFLINE_CVM_CDCVM : tx.OfflineCvm.OFFLINE_CVM_NO_CVM, aid, sensitive);
    } catch (e) {
      const f = offlineFailure(e);
      if (f) return f;
      throw e;
    } finally {
      await txsign.close();
    }
    const s = await this.offlineStatus();
    const q = s.queue.find((x) => x.clientTransactionId === req.clientTransactionId)!;
    return { outcome: 'approved-offline', receipt: this.queuedReceipt(q, cvm) };
  }

  private async authorize(req: PaymentRequest, type: Receipt['type'], signedTransaction: Uint8Array, cvm: Receipt['cvm'],
    pin: { block: Uint8Array; format: PinFormat } | null, aid: string, signal: AbortSignal): Promise<PaymentResult | typeof NOT_SENT> {
    const token = await this.freshToken();
    let res: trusttap.payment.v1.AuthorizeResponse;
    try {
      res = await this.link.authorize({
        signedTransaction, signedToken: at.SignedToken.encode(token).finish(),
        cvm: cvm === 'ONLINE_PIN' ? pay.Cvm.CVM_ONLINE_PIN : cvm === 'CDCVM' ? pay.Cvm.CVM_CDCVM : pay.Cvm.CVM_NO_CVM,
        encryptedPinBlock: pin?.block ?? new Uint8Array(0),
        pinBlockFormat: pin ? (pin.format === 'iso0' ? pay.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_0 : pay.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4) : pay.PinBlockFormat.PIN_BLOCK_FORMAT_UNSPECIFIED,
        aid,
      });
    } catch (e) {
      if (e instanceof BackendError) throw e;
      if (neverSent(e)) return NOT_SENT;
      // Sent, but no (valid) answer: the acquirer may have approved it.
      return { outcome: 'result-unknown', clientTransactionId: req.clientTransactionId, remedy: RESOLVE_LATER };
    } finally {
      this.persist();
    }
    if (signal.aborted) {
      // Cancelled while the acquirer was deciding: undo an approval so "cancelled" is true.
      if (res.decision === pay.Decision.DECISION_APPROVED) await this.link.reverse(req.clientTransactionId).catch(() => undefined);
      return { outcome: 'cancelled' };
    }
    return this.resultOf(res, aid, cvm, type);
  }

  private resultOf(r: trusttap.payment.v1.AuthorizeResponse.$Properties, aid: string | null, cvm: Receipt['cvm'] = 'NO_CVM', type: Receipt['type'] = 'purchase'): PaymentResult {
    const receipt: Receipt = {
      clientTransactionId: r.clientTransactionId ?? '', transactionReference: r.transactionReference ?? '',
      type, amount: Number(r.amountMinor ?? 0), currency: safeAlpha(r.currency ?? ''), maskedPan: r.maskedPan ?? '',
      application: applicationOf(aid ?? '', r.maskedPan ?? ''), aid: aid ?? '', cvm,
      authorizationCode: r.authorizationCode ?? '', responseCode: r.responseCode ?? '',
      merchantId: this.state?.merchantId ?? '', terminalId: this.state?.terminalId ?? '', timestampMs: Number(r.journaledMs),
    };
    if (r.qrMode === 'merchant-presented' || r.qrMode === 'consumer-presented') { receipt.qr = r.qrMode; receipt.application = 'QR wallet'; }
    if (r.approvedOffline) receipt.offline = true; // approved offline by this terminal, authorized on upload
    if (r.decision === pay.Decision.DECISION_APPROVED) return { outcome: 'approved', receipt };
    if (r.decision === pay.Decision.DECISION_REVERSED) return { outcome: 'reversed', receipt, reversedMs: Number(r.reversedMs ?? 0) };
    return { outcome: 'declined', reason: (pay.DeclineReason[r.reason ?? 0] ?? 'UNKNOWN').replace(/^DECLINE_REASON_/, ''), reasonText: r.reasonText ?? '', receipt };
  }
}

/** authorize(): the request never left the phone (no connection could be made). */
const NOT_SENT = Symbol('not sent');
const RESOLVE_LATER = 'call resolve(clientTransactionId) when the network is back; the same id never charges twice';

function safeAlpha(code: string): string {
  try { return currencyOf(code).alpha; } catch { return code; }
}

/** The scheme by AID (RID), else by the masked PAN's leading digits (ISO/IEC 7812 IIN). */
function applicationOf(aid: string, maskedPan: string): string {
  if (aid.startsWith('A000000333') || (!aid && maskedPan.startsWith('62'))) return 'UnionPay';
  if (aid.startsWith('A000000003') || (!aid && maskedPan.startsWith('4'))) return 'Visa';
  if (aid.startsWith('A000000004') || (!aid && /^(5[1-5]|2[2-7])/.test(maskedPan))) return 'Mastercard';
  return aid || 'card';
}

/** The PAN from the card's sensitive TLV (5A, else track 2 before the separator). */
function panOf(sensitive: Uint8Array): string {
  const nodes = decodeTlv(sensitive);
  const t5a = nodes.find((n) => n.tag === '5A');
  if (t5a) return hex(t5a.value).replace(/F+$/, '');
  const t57 = nodes.find((n) => n.tag === '57');
  return t57 ? hex(t57.value).split('D')[0] : '';
}

class NoCard extends Error {}

function waitForCard(nfc: CardTransport, timeoutMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (f: () => void) => { clearTimeout(timer); off(); signal.removeEventListener('abort', onAbort); f(); };
    const off = nfc.onCardEvent((e) => { if (e.type === 'present') done(resolve); });
    const timer = setTimeout(() => done(() => reject(new NoCard())), timeoutMs);
    const onAbort = () => done(() => reject(new Cancelled()));
    signal.addEventListener('abort', onAbort, { once: true });
    if ((nfc as { isPresent?: () => boolean }).isPresent?.()) done(resolve);
  });
}
