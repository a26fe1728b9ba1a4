// The device's link to the acquirer back end (proto/attest.proto, docs/backend-api.md): every
// request is a DeviceRequest with a strictly increasing counter, signed by the attest TA; every
// answer must be signed by the back end's response key and bound to the request (SHA-256 of
// its bytes and its counter), or it is rejected. Notices (THREAT_ALERT, POLICY_UPDATE,
// DEVICE_SUSPENDED ...) that arrive with any answer are collected in `notices`.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { AttestClient } from './client.ts';
import type { HealthCollector } from './collector.ts';
import type { ClientMeasurement } from './client-measurement.ts';
import { verifyP256, verifyToken, sha256 } from '../../common/verdict-token.ts';
import { concat, equalBytes } from '../../common/hex.ts';

const a = trusttap.attest.v1;
const pay = trusttap.payment.v1;
const num = (x: unknown) => (typeof x === 'number' ? x : x == null ? 0 : (x as { toNumber(): number }).toNumber());

export class BackendError extends Error {
  /** ERROR_CLIENT_REFUSED: why the acquirer refused this REE client (proto ClientRefusal). */
  readonly clientRefusal: number;
  constructor(readonly http: number, readonly code: number, readonly reason: string, clientRefusal = 0) {
    super(`${http} ${a.ErrorCode[code] ?? code}: ${reason}`);
    this.name = 'BackendError';
    this.clientRefusal = clientRefusal;
  }
  get codeName(): string { return a.ErrorCode[this.code] ?? String(this.code); }
  /** 'NOT_MEASURED', 'UNKNOWN', 'REVOKED', 'ALTERED', or '' when not a client refusal. */
  get clientRefusalName(): string { return this.clientRefusal ? (a.ClientRefusal[this.clientRefusal] ?? String(this.clientRefusal)).replace(/^CLIENT_REFUSAL_/, '') : ''; }
}

export interface BackendKeys { response: Uint8Array; token: Uint8Array; keyAgreement: Uint8Array }

export interface LinkState {
  deviceId: string;
  /** The back end's keys, pinned (from the app's configuration or at enrolment). */
  keys: BackendKeys | null;
  lastCounter: number;
}

export class BackendLink {
  readonly notices: trusttap.attest.v1.Notice[] = [];
  state: LinkState;
  private publicKey: Uint8Array | null = null;

  /** The REE client's measurement signed into every evidence (issue 16 §2); null: none. */
  client: ClientMeasurement | null = null;

  constructor(readonly baseUrl: string, readonly attest: AttestClient, readonly collector: HealthCollector, state: Partial<LinkState> = {}) {
    this.state = { deviceId: '', keys: null, lastCounter: 0, ...state };
  }

  /** Pins the back end's public keys as served by GET /v1/keys (a real app ships them). */
  async fetchKeys(): Promise<BackendKeys> {
    const r = await fetch(`${this.baseUrl}/v1/keys`);
    const k = a.EnrolResponse.decode(new Uint8Array(await r.arrayBuffer()));
    this.state.keys = { response: k.responsePublicKey, token: k.tokenPublicKey, keyAgreement: k.keyAgreementPublicKey };
    return this.state.keys;
  }

  private nextCounter(): number {
    // Microseconds of wall time, never going back: survives an app restart without storage.
    this.state.lastCounter = Math.max(this.state.lastCounter + 1, Date.now() * 1000);
    return this.state.lastCounter;
  }

  private async devicePublicKey(): Promise<Uint8Array> {
    this.publicKey ??= (await this.attest.getIdentity()).publicKey;
    return this.publicKey;
  }

  /** Sends one signed request; returns the verified DeviceResponse. A counter the back end
   * refuses as a jump (ERROR_COUNTER_JUMP, nothing consumed) means this link's counter ran ahead
   * of the wall clock (a corrupted or tampered saved state): it restarts from the clock and the
   * request is sent once more (issue 17 §2; docs/backend-api.md, Counters). */
  async call(path: string, body: Record<string, unknown>): Promise<trusttap.attest.v1.DeviceResponse> {
    try {
      return await this.callOnce(path, body);
    } catch (e) {
      const clock = Date.now() * 1000;
      if (!(e instanceof BackendError) || e.code !== a.ErrorCode.ERROR_COUNTER_JUMP || this.state.lastCounter <= clock) throw e;
      this.state.lastCounter = clock;
      return this.callOnce(path, body);
    }
  }

  private async callOnce(path: string, body: Record<string, unknown>): Promise<trusttap.attest.v1.DeviceResponse> {
    const counter = this.nextCounter();
    const request = a.DeviceRequest.encode({ deviceId: this.state.deviceId, counter, timeMs: Date.now(), ...body } as any).finish();
    const signature = await this.attest.signRequest(request);
    const publicKey = this.state.deviceId ? new Uint8Array(0) : await this.devicePublicKey();
    const res = await fetch(`${this.baseUrl}/v1/device/${path}`, {
      method: 'POST', headers: { 'content-type': 'application/x-protobuf' },
      body: Uint8Array.from(a.SignedDeviceRequest.encode({ request, signature, publicKey }).finish()),
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.headers.get('x-trusttap-message') !== 'SignedDeviceResponse') {
      let e: trusttap.attest.v1.ErrorResponse;
      try { e = a.ErrorResponse.decode(bytes); } catch { throw new BackendError(res.status, 0, 'unreadable error body'); }
      throw new BackendError(res.status, e.code, e.message, e.clientRefusal);
    }
    const signed = a.SignedDeviceResponse.decode(bytes);
    if (!this.state.keys) throw new BackendError(res.status, 0, 'no pinned back-end keys to verify the answer');
    if (!verifyP256(this.state.keys.response, signed.response, signed.signature)) throw new BackendError(res.status, 0, 'the answer is not signed by the back end');
    const r = a.DeviceResponse.decode(signed.response);
    if (!equalBytes(r.requestSha256, sha256(request)) || num(r.counter) !== counter) {
      throw new BackendError(res.status, 0, 'the answer is bound to another request');
    }
    this.notices.push(...(r.notices as trusttap.attest.v1.Notice[]));
    if (r.error) throw new BackendError(res.status, r.error.code ?? 0, r.error.message ?? '', r.error.clientRefusal ?? 0);
    return r;
  }

  private async challenge(activationCode = ''): Promise<Uint8Array> {
    const r = await this.call('challenge', { challenge: { activationCode } });
    return r.challenge!.nonce!;
  }

  private async evidence(nonce: Uint8Array) {
    const e = await this.attest.getEvidence(nonce, this.collector.collect(), this.client);
    return { evidence: e.evidence, signature: e.signature };
  }

  /** Enrols with a one-time activation code; pins the back end's key-agreement key in the TEE. */
  async enrol(activationCode: string): Promise<trusttap.attest.v1.EnrolResponse> {
    if (!this.state.keys) await this.fetchKeys();
    const id = await this.attest.getIdentity();
    const nonce = await this.challenge(activationCode);
    const r = await this.call('enrol', { enrol: { activationCode, evidence: await this.evidence(nonce), oemChain: id.chain } });
    const e = r.enrol! as trusttap.attest.v1.EnrolResponse;
    this.state.deviceId = e.deviceId;
    await this.attest.pinBackendKey(e.keyAgreementPublicKey);
    return e;
  }

  /** A fresh attestation: challenge, evidence, verdict token (verified here). clientNonce (up to
   * 32 bytes, e.g. the pinpad TA's GET_NONCE) is appended to the back end's challenge in the
   * evidence, so the token's nonce ends with it. */
  async attestNow(clientNonce: Uint8Array = new Uint8Array(0)): Promise<{ token: trusttap.attest.v1.VerdictToken; signed: trusttap.attest.v1.SignedToken; offlinePolicy: trusttap.txsign.v1.ISignedOfflinePolicy | null }> {
    if (clientNonce.length > 32) throw new Error('clientNonce is at most 32 bytes');
    const nonce = concat(await this.challenge(), clientNonce);
    const r = await this.call('attest', { attest: { evidence: await this.evidence(nonce) } });
    const signed = r.attest!.token!;
    const token = verifyToken(signed, this.state.keys!.token, await this.devicePublicKey());
    // The offline policy is checked by the txsign TA (under the pinned token key), not here.
    return { token, signed: signed as trusttap.attest.v1.SignedToken, offlinePolicy: r.attest!.offlinePolicy ?? null };
  }

  async heartbeat(): Promise<trusttap.attest.v1.HeartbeatResponse> {
    const r = await this.call('heartbeat', { heartbeat: { ree: this.collector.collect() } });
    return r.heartbeat as trusttap.attest.v1.HeartbeatResponse;
  }

  /** Remote key injection: key agreement in the TEE (the KEK goes to the keystore TA), then the
   * TR-31 key blocks under it. Importing the blocks is the keystore's IMPORT_KEY_BLOCK. */
  async injectKeys(): Promise<{ kekKeyId: string; keys: trusttap.attest.v1.KeyBlock[] }> {
    const x = (await this.call('key-exchange', { keyExchange: {} })).keyExchange!;
    const offer = a.KeyAgreementOffer.decode(x.offer!);
    const agreed = await this.attest.agreeKek(x.offer!, x.offerSignature!);
    const r = await this.call('key-download', { keyDownload: { sessionId: offer.sessionId, macTagU: agreed.macTagU, kekKcv: agreed.kcv } });
    return { kekKeyId: agreed.keyId, keys: r.keyDownload!.keys as trusttap.attest.v1.KeyBlock[] };
  }

  // ---------------------------------------------------------------- payments (issue 7)

  /** Asks the back end to authorize a payment (POST /v1/device/authorize). `signedTransaction`
   * is the txsign TA's encoded SignTransactionResponse, `signedToken` an encoded SignedToken
   * (a fresh ALLOW from attestNow()). Declines are answers, not errors: check `decision`. A
   * transport failure or an unverifiable answer throws (then: transactionStatus / reverse with
   * the record's client_transaction_id). Resend the identical request to retry. */
  async authorize(req: trusttap.payment.v1.IAuthorizeRequest): Promise<trusttap.payment.v1.AuthorizeResponse> {
    const r = await this.call('authorize', { authorize: req });
    if (!r.authorize) throw new BackendError(200, 0, 'the answer holds no AuthorizeResponse');
    return pay.AuthorizeResponse.fromObject(r.authorize as object);
  }

  /** What the back end journaled for this client transaction id (found: false if nothing). */
  async transactionStatus(clientTransactionId: string): Promise<trusttap.payment.v1.TransactionStatusResponse> {
    const r = await this.call('transaction-status', { transactionStatus: { clientTransactionId } });
    if (!r.transactionStatus) throw new BackendError(200, 0, 'the answer holds no TransactionStatusResponse');
    return pay.TransactionStatusResponse.fromObject(r.transactionStatus as object);
  }

  /** Reverses the transaction (restores the cardholder's balance if it was approved). An
   * unknown id is reversed too: a late authorization under it is then declined. After this,
   * no money moved if `reversed` or the status says DECLINED. Idempotent. */
  async reverse(clientTransactionId: string): Promise<trusttap.payment.v1.ReverseResponse> {
    const r = await this.call('reverse', { reverse: { clientTransactionId } });
    if (!r.reverse) throw new BackendError(200, 0, 'the answer holds no ReverseResponse');
    return pay.ReverseResponse.fromObject(r.reverse as object);
  }

  // ---------------------------------------------------------------- QR payments

  /** Asks the acquirer for a merchant-presented QR order (POST /v1/device/qr-order): the EMVCo
   * payload to display and its state. The same id answers the same order (idempotent); a refused
   * order has state UNSPECIFIED and refused_reason. */
  async qrOrder(req: trusttap.payment.v1.IQrOrderRequest): Promise<trusttap.payment.v1.QrOrder> {
    const r = await this.call('qr-order', { qrOrder: req });
    if (!r.qrOrder) throw new BackendError(200, 0, 'the answer holds no QrOrder');
    return pay.QrOrder.fromObject(r.qrOrder as object);
  }

  /** The order's state now (PENDING, PAID, DECLINED, EXPIRED, CANCELLED); cancel = true cancels a
   * pending order (POST /v1/device/qr-status). */
  async qrStatus(clientTransactionId: string, cancel = false): Promise<trusttap.payment.v1.QrStatusResponse> {
    const r = await this.call('qr-status', { qrStatus: { clientTransactionId, cancel } });
    if (!r.qrStatus) throw new BackendError(200, 0, 'the answer holds no QrStatusResponse');
    return pay.QrStatusResponse.fromObject(r.qrStatus as object);
  }

  /** Charges a consumer-presented payment code (POST /v1/device/qr-authorize). Declines are
   * answers; a transport failure throws (then transactionStatus with the same id). */
  async qrAuthorize(req: trusttap.payment.v1.IQrAuthorizeRequest): Promise<trusttap.payment.v1.AuthorizeResponse> {
    const r = await this.call('qr-authorize', { qrAuthorize: req });
    if (!r.qrAuthorize) throw new BackendError(200, 0, 'the answer holds no AuthorizeResponse');
    return pay.AuthorizeResponse.fromObject(r.qrAuthorize as object);
  }
}
