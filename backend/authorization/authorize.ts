// Authorization (issue 7): a device-signed AuthorizeRequest carrying the txsign TA's signed and
// MACed record becomes an approval or a decline, journaled before the answer. Checks, in order:
//
//   0. idempotency: a client_transaction_id already journaled for this device returns the
//      payment's current state (currentAnswer: the journaled answer, or REVERSED once reversed)
//      if the signed record is the same bytes (a retry), else INVALID_TRANSACTION;
//   1. device: active, a fresh ALLOW verdict token for this device key (signed_token), paymentGate;
//   2. record: txsign signature by the device key and DUKPT MAC (checkTransactionRecord), merchant
//      and terminal of the device, counter strictly above the last accepted one; a record counter
//      that numbered another journaled payment or a DUKPT KSN not above the last one seen is a
//      rollback of the device's storage (issue 17 §1): refused, and the device suspended;
//   ---- from here the decision is journaled (the counter is consumed) ----
//   3. data: amount and currency equal the cryptogram's 9F02 / 5F2A, an ARQC (9F27); 3b. with
//      the policy's relay_decline, a TVR saying "relay resistance time limits exceeded" is
//      declined RELAY_SUSPECTED, a threat alert, and the device must attest again (issue 14);
//   4. amount limits per currency (OVER_LIMIT, PIN_REQUIRED without online PIN or CDCVM);
//   5. card data decrypted in the HSM (DUKPT data key of the record's KSN; the same HSM operation
//      as step 2's MAC check, one DUKPT derivation for both, the clear data wiped once read or
//      when the record is refused before): PAN, PSN, expiry;
//      the record's masked PAN must match; the issuer must know the card (UNKNOWN_CARD);
//   6. online PIN: the ISO 9564 format 4 block decrypted and compared in the HSM against the
//      issuer's PIN verification value (the device's acquirer's PVK and PVV, issue 16 §1); the
//      issuer's try counter (INCORRECT_PIN, PIN_TRIES_EXCEEDED);
//   7. ARQC verified with the issuer master key (per scheme/CVN; the one in the device's
//      acquirer's HSM namespace) in the HSM, ATC not replayed
//      (CRYPTOGRAM_FAILED); ARPC computed for the final response code;
//   8. the issuer's decision: blocked, expired, funds (balance moved on approval);
//      steps 6–8 are the simulated issuer's (issuer-sim/card-authorization.ts); for an acquirer on
//      the 'upstream' route (issue 16 §1) they are its issuer's instead: the PIN block translated
//      to the acquirer's zone PIN key in the HSM, the JSON message POSTed (./upstream.ts), its
//      answer journaled; no usable answer = ISSUER_UNAVAILABLE (91), never an approval;
//   4b. a record the terminal approved offline (issue 14 §2, ./offline.ts): no PIN, within the
//      offline per-transaction limit; any decline of such a record is a decline after the fact,
//      reported as a risk event on the device (AuthorizationHost.offlineDeclined);
//   9. journal row + device history, in the same SQLite transaction as every effect above
//      (BackendService.handleDevice commits it, synchronous=FULL, before the answer is signed).
//
// Declines before step 3 are not journaled (nothing was consumed): the device may fix the cause
// (re-attest) and retry the same record.
import { decodeCanonical } from '../../common/canonical.ts';
import { randomBytes } from 'node:crypto';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { Repository, DeviceRow, PaymentRow } from '../store/repository.ts';
import type { Hsm } from '../hsm/hsm.ts';
import { verifyP256, sha256 } from '../crypto/p256.ts';
import { IssuerSim, panHash } from '../issuer-sim/index.ts';
import { authorizeCard } from '../issuer-sim/card-authorization.ts';
import { RESPONSE_CODE } from './response-codes.ts';
import { sendUpstream, UPSTREAM_VERSION, type UpstreamRequest } from './upstream.ts';
import { DEFAULT_LIMITS, type AmountLimits } from './limits.ts';
import { counterJumps, cryptogramDataProblem, journaledAs, limitsDecline, relayDecline, MAX_RECORD_COUNTER_STEP } from './checks.ts';
import { parseTlv, bcdDigits, TlvError } from './tlv.ts';
import { hex, num, u64, sha256Hex, exactCounter, pooledRandomBytes } from '../util.ts';
import { currentAnswer } from './current.ts';
import { ksnCounter, witness } from '../attestation/witness.ts';
import { offlineRecordProblem } from './offline.ts';

const pay = trusttap.payment.v1;
const tx = trusttap.txsign.v1;
const at = trusttap.attest.v1;
const R = pay.DeclineReason;
type Reason = trusttap.payment.v1.DeclineReason;
type AuthorizeResponse = trusttap.payment.v1.IAuthorizeResponse;

export { RESPONSE_CODE };

export { MAX_RECORD_COUNTER_STEP };

export interface AuthorizationHost {
  repo: Repository;
  hsm: Hsm;
  /** The HSM id of the BDK of the device's acquirer (backend/tenants.ts bdkIdOf). */
  bdkId(device: DeviceRow): string;
  /** The policy version of the device's acquirer, for its history rows. */
  policyVersion(deviceId: string): Promise<number>;
  /** The device's acquirer's terms, read once per authorization (one row): its contactless
   * limits (issue 16 §1; default DEFAULT_LIMITS) and its upstream issuer (its URL, zone PIN key
   * and timeout) when its route is 'upstream', else null = the simulated issuer here. */
  terms?(device: DeviceRow): Promise<{ limits: readonly AmountLimits[]; upstream: Upstream | null }>;
  /** The acquirer a merchant id belongs to (a device cannot pay for another acquirer's merchant). */
  merchantAcquirer?(merchantId: string): Promise<string | null>;
  paymentGate(device: DeviceRow): Promise<{ allowed: boolean; reason: string }>;
  /** The record's signature and DUKPT MAC; given encryptedData (the record's card data), also
   * its decryption under the same KSN in the same HSM operation (Hsm.openDukptRecord): cardData,
   * null when it does not decrypt, which the caller wipes. */
  checkTransactionRecord(device: DeviceRow, record: Uint8Array, signature: Uint8Array, mac: Uint8Array, macKsn: Uint8Array, encryptedData?: Uint8Array): Promise<{ ok: boolean; reason: string; cardData?: Uint8Array | null }>;
  /** A TEE counter went back (issue 17 §1): a monitoring event that suspends the device. */
  rollbackDetected(device: DeviceRow, reason: string, now: number): Promise<void>;
  /** The versioned policy in force (its offline limits, issue 14 §2). */
  /** The attestation policy of the device's acquirer (its offline settings). */
  currentPolicy(device: DeviceRow): trusttap.attest.v1.IPolicy;
  /** A record approved offline was declined on upload: a risk event on the device. */
  offlineDeclined(device: DeviceRow, detail: string, now: number): Promise<void>;
  /** Issue 14: whether a payment flagged as relayed is declined (its acquirer's policy relay_decline). */
  declineRelayed(device: DeviceRow): boolean;
  /** Issue 14: a payment flagged as relayed — a monitoring event; the device must attest again. */
  relaySuspected(device: DeviceRow, reason: string, now: number): Promise<void>;
}

/** Issue 16 §1: an acquirer's upstream issuer. */
export interface Upstream { url: string; zpkId: string; timeoutMs?: number }

class Decline {
  constructor(readonly reason: Reason, readonly text: string) {}
}

interface Ctx {
  device: DeviceRow;
  now: number;
  record: trusttap.txsign.v1.TransactionRecord;
  recordSha: string;
  reference: string;
  /** 6 random bytes for the authorization code. */
  codeRandom: Uint8Array;
  type: 'purchase' | 'refund';
  amount: number;
  currency: string;
  maskedPan: string;
  panHash: string;
  delta: number;
  arpc: Uint8Array;
  iad: Uint8Array;
}

export class Authorizer {
  readonly issuer: IssuerSim;
  /** Signed tokens (their exact bytes, base64) that decoded canonically and whose signature
   * verified, decoded: a device sends the same token with every payment of its two-minute life,
   * so it is decoded and verified once; binding, verdict and expiry are still checked on every
   * payment. */
  private readonly verifiedTokens = new Map<string, { token: trusttap.attest.v1.VerdictToken; boundKey?: Uint8Array }>();

  constructor(private readonly host: AuthorizationHost) {
    this.issuer = new IssuerSim(host.repo, host.hsm);
  }

  /** Runs inside the request's SQLite transaction (BackendService.handleDevice). lastRecordCounter:
   * the device's last accepted record counter already read in this transaction (the request
   * counter's update answers it: Repository.advanceCounterReadingRecord); read here if absent. */
  async authorize(device: DeviceRow, req: trusttap.payment.v1.IAuthorizeRequest, now: number, lastRecordCounter?: number): Promise<AuthorizeResponse> {
    const { repo } = this.host;
    let signed: trusttap.txsign.v1.SignTransactionResponse;
    let record: trusttap.txsign.v1.TransactionRecord;
    try {
      signed = decodeCanonical(tx.SignTransactionResponse, req.signedTransaction ?? new Uint8Array(0), 'signed_transaction');
      record = decodeCanonical(tx.TransactionRecord, signed.record, 'the record');
    } catch (e) {
      return await this.refuse(device, now, '', R.DECLINE_REASON_INVALID_TRANSACTION, `signed_transaction is not a canonical txsign SignTransactionResponse: ${(e as Error).message}`);
    }
    const ctid = record.clientTransactionId;
    if (!ctid || ctid.length > 64) return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'client_transaction_id must be 1..64 characters');
    const recordSha = sha256Hex(signed.record);

    // 0. Idempotency.
    const old = await repo.getPayment(device.deviceId, ctid);
    if (old) {
      if (journaledAs(old.recordSha256, recordSha) === 'resend') return currentAnswer(old);
      return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'this client_transaction_id was used for another transaction');
    }

    // 1. Device.
    if (device.state !== 'active') return await this.refuse(device, now, ctid, R.DECLINE_REASON_DEVICE_NOT_ALLOWED, `device ${device.state}${device.stateReason ? `: ${device.stateReason}` : ''}`);
    const tokenWhy = this.checkToken(device, req.signedToken ?? new Uint8Array(0), now);
    if (tokenWhy) return await this.refuse(device, now, ctid, R.DECLINE_REASON_DEVICE_NOT_ALLOWED, tokenWhy);
    const gate = await this.host.paymentGate(device);
    if (!gate.allowed) return await this.refuse(device, now, ctid, R.DECLINE_REASON_DEVICE_NOT_ALLOWED, gate.reason);

    // 2. The record (its card data decrypted with the MAC's check, for step 5: one DUKPT
    // derivation for both, the clear data wiped whatever happens next).
    const check = await this.host.checkTransactionRecord(device, signed.record, signed.signature, signed.mac, signed.macKsn, record.encryptedCardData.length ? record.encryptedCardData : undefined);
    try {
      if (!check.ok) return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, check.reason);
      return await this.checkedRecord(device, req, now, signed, record, ctid, recordSha, check.cardData, lastRecordCounter);
    } finally {
      check.cardData?.fill(0);
    }
  }

  /** Steps 2 (from the merchant on) to 9, the record's signature and MAC verified. */
  private async checkedRecord(device: DeviceRow, req: trusttap.payment.v1.IAuthorizeRequest, now: number, signed: trusttap.txsign.v1.SignTransactionResponse,
    record: trusttap.txsign.v1.TransactionRecord, ctid: string, recordSha: string, cardData: Uint8Array | null | undefined, lastRecordCounter?: number): Promise<AuthorizeResponse> {
    const { repo } = this.host;
    if (record.merchantId !== device.merchantId || record.terminalId !== device.terminalId) {
      return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'the record is for another merchant or terminal');
    }
    // Issue 16 §1: the merchant must be the device's acquirer's (a device enrolled for one acquirer
    // never pays for another's merchant, whatever its own row says).
    const owner = this.host.merchantAcquirer ? await this.host.merchantAcquirer(record.merchantId) : device.acquirerId;
    if (owner !== device.acquirerId) {
      return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'the record is for a merchant of another acquirer');
    }
    const type = record.type === tx.TransactionType.TRANSACTION_TYPE_PURCHASE ? 'purchase' : record.type === tx.TransactionType.TRANSACTION_TYPE_REFUND ? 'refund' : null;
    if (!type) return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, 'the record is neither a purchase nor a refund');
    // The txsign TA numbers records one by one; a counter far ahead is refused before it is
    // accepted (issue 17 §2), since one accepted 2^64−1 would leave no later record acceptable.
    const last = lastRecordCounter ?? await repo.lastRecordCounter(device.deviceId);
    const counter = exactCounter(record.counter);
    if (counter === null || counterJumps(counter, last)) {
      return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, `record counter ${String(record.counter)} jumps more than ${MAX_RECORD_COUNTER_STEP} past the last accepted ${last} (counter jump)`);
    }
    // Issue 17 §1: a record counter, or a DUKPT KSN, that the back end has seen before means the
    // device's storage was set back (restored or cloned): refused, and the device suspended.
    // A lower record counter never seen is a record sent out of order: refused, nothing more.
    const rollback: string[] = [];
    if (counter <= last) {
      const earlier = await repo.paymentByRecordCounter(device.deviceId, counter);
      if (!earlier) return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, `record counter ${counter} is not above the last accepted ${last} (replay)`);
      rollback.push(`rollback: txsign record counter ${counter} already numbered payment ${earlier.clientTransactionId}, another record — the device's storage was restored or cloned`);
    }
    // One DUKPT transaction may serve the PIN block and the record's MAC and data (X9.24-3 derives
    // all three from one transaction key): the same KSN twice in one record is one use.
    const sameKsn = record.pinKsn.length > 0 && Buffer.from(record.pinKsn).equals(Buffer.from(signed.macKsn));
    for (const [ksn, what] of [[record.pinKsn, sameKsn ? 'PIN and data/MAC' : 'PIN'], [sameKsn ? new Uint8Array(0) : signed.macKsn, 'data/MAC']] as const) {
      if (!ksn.length) continue;
      const k = ksnCounter(ksn);
      if (!k) return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, `the ${what} KSN is ${ksn.length} bytes, neither AES (12) nor TDES (10) DUKPT`);
      const why = await witness(repo, device.deviceId, k.name, k.counter, true, `DUKPT ${what} KSN counter (key ${k.name.slice(4)})`);
      if (why) rollback.push(why);
    }
    if (rollback.length) {
      await this.host.rollbackDetected(device, rollback.join('; '), now);
      return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, rollback.join('; '));
    }
    if (!await repo.advanceRecordCounter(device.deviceId, counter)) {
      return await this.refuse(device, now, ctid, R.DECLINE_REASON_INVALID_TRANSACTION, `record counter ${counter} is not above the last accepted ${await repo.lastRecordCounter(device.deviceId)} (replay)`);
    }

    // 3.–8. Journaled from here on. One draw of randomness for the reference (8 bytes) and the
    // authorization code (6), from the pooled block (each node:crypto call costs more than the bytes).
    const random = pooledRandomBytes(14);
    const c: Ctx = {
      device, now, record, recordSha, reference: `TT${random.toString('hex', 0, 8).toUpperCase()}`, codeRandom: random.subarray(8), type,
      amount: num(record.amountMinor), currency: record.currency, maskedPan: record.maskedPan, panHash: '', delta: 0,
      arpc: new Uint8Array(0), iad: new Uint8Array(0),
    };
    let outcome: Decline | null;
    try {
      outcome = await this.decide(c, signed, req, cardData);
    } catch (e) {
      if (!(e instanceof Decline)) throw e;
      outcome = e;
    }
    return await this.journal(c, outcome);
  }

  /** cardData: the record's card data already decrypted with its MAC's check (null: it did not
   * decrypt; undefined: not tried, decrypted here). */
  private async decide(c: Ctx, signed: trusttap.txsign.v1.SignTransactionResponse, req: trusttap.payment.v1.IAuthorizeRequest, cardData: Uint8Array | null | undefined): Promise<Decline | null> {
    const { hsm } = this.host;
    const r = c.record;
    const bad = (why: string) => new Decline(R.DECLINE_REASON_INVALID_TRANSACTION, why);

    // 3. The cryptogram's data.
    let icc: Map<string, Uint8Array>;
    try {
      icc = parseTlv(r.cryptogramData);
    } catch (e) {
      throw bad(`cryptogram_data is not BER-TLV: ${(e as TlvError).message}`);
    }
    if (r.applicationCryptogram.length !== 8) throw bad('the record carries no application cryptogram');
    icc.set('9F26', r.applicationCryptogram);
    const dataProblem = cryptogramDataProblem(icc, c.amount, c.currency);
    if (dataProblem) throw bad(dataProblem);
    // 3b. Relay resistance (issue 14): the kernel's TVR says the card answered too slowly.
    const relayed = relayDecline(icc, this.host.declineRelayed(c.device));
    if (relayed) {
      await this.host.relaySuspected(c.device, `payment ${c.record.clientTransactionId}: ${relayed.text}`, c.now);
      throw new Decline(relayed.reason, relayed.text);
    }
    const atc = icc.get('9F36')!;

    // 4. Amount limits.
    const cvm = req.cvm ?? pay.Cvm.CVM_UNSPECIFIED;
    const pinGiven = cvm === pay.Cvm.CVM_ONLINE_PIN;
    if (pinGiven && (!req.encryptedPinBlock?.length || !r.pinKsn.length)) throw bad('online PIN needs encrypted_pin_block and the record\'s pin_ksn');
    const terms = this.host.terms ? await this.host.terms(c.device) : { limits: DEFAULT_LIMITS, upstream: null };
    const overLimits = limitsDecline(terms.limits, c.type, c.currency, c.amount, cvm);
    if (overLimits) throw new Decline(overLimits.reason, overLimits.text);
    // Approved offline by the terminal (issue 14 §2): never with a PIN, within the offline limit.
    if (r.approvedOffline) {
      const why = offlineRecordProblem(this.host.currentPolicy(c.device), r, cvm);
      if (why) throw new Decline(r.pinKsn.length || cvm === pay.Cvm.CVM_ONLINE_PIN ? R.DECLINE_REASON_INVALID_TRANSACTION : R.DECLINE_REASON_OVER_LIMIT, why);
    }

    // 5. Card data, decrypted in the HSM.
    if (!r.encryptedCardData.length) throw bad('the record carries no encrypted card data');
    const clear = cardData === undefined ? await hsm.decryptDukptData(this.host.bdkId(c.device), signed.macKsn, r.encryptedCardData) : cardData;
    if (!clear) throw bad('the card data does not decrypt under the record\'s DUKPT data key');
    let card: Map<string, Uint8Array>;
    try {
      card = parseTlv(clear);
    } catch {
      throw bad('the decrypted card data is not BER-TLV');
    } finally {
      clear.fill(0);
    }
    const track2 = card.get('57') ? bcdDigits(card.get('57')!).replace(/[^0-9D]/g, '') : '';
    const pan = card.get('5A') ? bcdDigits(card.get('5A')!) : track2.split('D')[0] ?? '';
    if (!/^\d{12,19}$/.test(pan)) throw bad('the card data holds no PAN (5A or 57)');
    const psn = card.get('5F34') ? bcdDigits(card.get('5F34')!).padStart(2, '0').slice(-2) : '00';
    const chipExpiry = card.get('5F24') ? bcdDigits(card.get('5F24')!).slice(0, 4) : track2.split('D')[1]?.slice(0, 4) ?? '';
    for (const v of card.values()) v.fill(0);
    if (c.maskedPan && !maskMatches(c.maskedPan, pan)) throw bad('the masked PAN does not match the card data');
    c.maskedPan = c.maskedPan || pan.slice(0, 6) + '*'.repeat(pan.length - 10) + pan.slice(-4);
    const pinBlock = req.encryptedPinBlock;
    if (pinGiven && (req.pinBlockFormat ?? pay.PinBlockFormat.PIN_BLOCK_FORMAT_UNSPECIFIED) !== pay.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4) {
      throw bad('only ISO 9564 format 4 PIN blocks under AES DUKPT are accepted');
    }

    // Issue 16 §1: an acquirer on the 'upstream' route asks its issuer over HTTP (./upstream.ts),
    // with the PIN block translated to its zone PIN key in the HSM; else the simulated issuer here.
    const upstream = terms.upstream;
    if (upstream) {
      c.panHash = panHash(pan);
      let pin: UpstreamRequest['pin'];
      if (pinGiven) {
        await hsm.ensureZonePinKey(upstream.zpkId);
        const zoned = await hsm.translateDukptPinToZpk(this.host.bdkId(c.device), r.pinKsn, pinBlock!, pan, upstream.zpkId);
        if (!zoned) throw bad('the PIN block does not decrypt to a format 4 PIN field for this card');
        pin = { format: 'ISO-9564-4', block: hex(zoned), zpkId: upstream.zpkId };
      }
      const o = await sendUpstream(upstream.url, {
        version: UPSTREAM_VERSION, acquirerId: c.device.acquirerId, merchantId: r.merchantId, terminalId: r.terminalId,
        clientTransactionId: r.clientTransactionId, reference: c.reference, type: c.type, amountMinor: c.amount, currency: c.currency,
        maskedPan: c.maskedPan, card: { pan, psn, expiry: chipExpiry, iccData: hex(Buffer.concat([r.cryptogramData, Uint8Array.of(0x9f, 0x26, 0x08), r.applicationCryptogram])) }, pin, timeMs: c.now,
      }, upstream.timeoutMs);
      c.arpc = o.arpc;
      c.iad = o.iad;
      return o.reason === R.DECLINE_REASON_NONE ? null : new Decline(o.reason, o.text);
    }

    // 6.–8. The simulated issuer: card, online PIN, ARQC, decision (backend/issuer-sim/card-authorization.ts).
    const d = await authorizeCard(this.issuer, hsm, {
      keysOf: c.device.acquirerId, pan, psn, chipExpiry, icc, type: c.type, amountMinor: c.amount, currency: c.currency, reference: c.reference, nowMs: c.now,
      pin: pinGiven ? (pvkId, pvv) => hsm.verifyDukptPin(this.host.bdkId(c.device), r.pinKsn, pinBlock!, pan, pvkId, pvv) : undefined,
    });
    c.panHash = d.panHash;
    c.arpc = d.arpc;
    c.iad = d.iad;
    c.delta = d.delta;
    return d.reason === R.DECLINE_REASON_NONE ? null : new Decline(d.reason, d.text);
  }

  /** 9. The journal row and the answer (the same bytes are returned to every retry). */
  private async journal(c: Ctx, d: Decline | null): Promise<AuthorizeResponse> {
    const approved = !d;
    const reason = d?.reason ?? R.DECLINE_REASON_NONE;
    const res: AuthorizeResponse = {
      decision: approved ? pay.Decision.DECISION_APPROVED : pay.Decision.DECISION_DECLINED, reason,
      reasonText: d?.text ?? 'approved', responseCode: RESPONSE_CODE[reason], authorizationCode: approved ? authCode(c.codeRandom) : '',
      arpc: c.arpc, clientTransactionId: c.record.clientTransactionId, amountMinor: u64(c.amount), currency: c.currency,
      maskedPan: c.maskedPan, journaledMs: u64(c.now), transactionReference: c.reference, issuerAuthenticationData: c.iad,
      approvedOffline: c.record.approvedOffline,
    };
    const bytes = pay.AuthorizeResponse.encode(res).finish();
    const row: PaymentRow = {
      deviceId: c.device.deviceId, clientTransactionId: c.record.clientTransactionId, reference: c.reference, recordSha256: c.recordSha,
      recordCounter: num(c.record.counter), type: c.type, amountMinor: c.amount, currency: c.currency, accountDelta: c.delta, panHash: c.panHash,
      decision: approved ? 'approved' : 'declined', reason, response: bytes, createdMs: c.now, reversedMs: 0,
    };
    await this.host.repo.insertPayment(row); // the journal is the payment's record (no history row: one write less per payment)
    if (d && c.record.approvedOffline) await this.host.offlineDeclined(c.device, `${c.record.clientTransactionId} ${c.reference}: ${pay.DeclineReason[reason]}: ${d.text}`, c.now);
    return res; // encodes to the journaled bytes (a resend gets those bytes decoded: currentAnswer)
  }

  /** A decline before anything was consumed: not journaled, recorded in the device history. */
  private async refuse(device: DeviceRow, now: number, ctid: string, reason: Reason, text: string): Promise<AuthorizeResponse> {
    await this.history(device.deviceId, now, `${ctid || '(no id)'}: refused ${pay.DeclineReason[reason]}: ${text}`);
    return {
      decision: pay.Decision.DECISION_DECLINED, reason, reasonText: text, responseCode: RESPONSE_CODE[reason], clientTransactionId: ctid,
      journaledMs: u64(0),
    };
  }

  private async history(deviceId: string, now: number, detail: string): Promise<void> {
    await this.host.repo.appendHistory({ deviceId, timeMs: now, kind: 'payment', verdict: '', detail, policyVersion: await this.host.policyVersion(deviceId) });
  }

  /** The verdict token as common/verdict-token.ts checks it, bound to this device; '' if good. */
  private checkToken(device: DeviceRow, signedToken: Uint8Array, now: number): string {
    const key = Buffer.from(signedToken.buffer, signedToken.byteOffset, signedToken.length).toString('base64');
    let entry = this.verifiedTokens.get(key);
    if (!entry) {
      let t: trusttap.attest.v1.VerdictToken;
      let st: trusttap.attest.v1.SignedToken;
      try {
        st = decodeCanonical(at.SignedToken, signedToken, 'signed_token');
      } catch (e) {
        return (e as Error).message;
      }
      if (!st.token.length || st.signature.length !== 64) return 'no verdict token';
      if (!verifyP256(this.host.hsm.publicKey('token'), st.token, st.signature)) return 'the verdict token is not signed by the back end';
      try {
        t = decodeCanonical(at.VerdictToken, st.token, 'the verdict token');
      } catch (e) {
        return (e as Error).message;
      }
      if (this.verifiedTokens.size > 10_000) this.verifiedTokens.clear();
      entry = { token: t };
      this.verifiedTokens.set(key, entry);
    }
    const t = entry.token;
    if (t.deviceId !== device.deviceId) return 'the verdict token is for another device';
    // The token names the device key by its SHA-256: hashed once per token, then the key that
    // matched is compared byte for byte (a device sends the same token and key all along).
    if (!entry.boundKey || !Buffer.from(entry.boundKey).equals(device.publicKey)) {
      if (!Buffer.from(t.deviceKeySha256).equals(sha256(device.publicKey))) return 'the verdict token is for another device';
      entry.boundKey = Uint8Array.from(device.publicKey);
    }
    if (t.verdict !== at.Verdict.VERDICT_ALLOW) return `the verdict token says ${at.Verdict[t.verdict] ?? t.verdict}`;
    if (num(t.expiresMs) <= now) return 'the verdict token has expired: attest again';
    return '';
  }

  // ------------------------------------------------------------ status and reversal

  async status(device: DeviceRow, ctid: string): Promise<trusttap.payment.v1.ITransactionStatusResponse> {
    const p = await this.host.repo.getPayment(device.deviceId, ctid);
    if (!p) return { found: false, reversed: false };
    return { found: true, result: currentAnswer(p), reversed: p.reversedMs > 0 };
  }

  /** Reverses an approved transaction (the issuer's movement is undone, journaled). Unknown id:
   * a tombstone is journaled, so an authorization with this id arriving later is declined. */
  async reverse(device: DeviceRow, ctid: string, now: number): Promise<trusttap.payment.v1.IReverseResponse> {
    const { repo } = this.host;
    const p = await repo.getPayment(device.deviceId, ctid);
    if (!p) {
      const reference = `TT${randomBytes(8).toString('hex').toUpperCase()}`;
      const reason = R.DECLINE_REASON_INVALID_TRANSACTION;
      const res = pay.AuthorizeResponse.encode({
        decision: pay.Decision.DECISION_DECLINED, reason, reasonText: 'reversed before it was authorized', responseCode: RESPONSE_CODE[reason],
        clientTransactionId: ctid, journaledMs: u64(now), transactionReference: reference,
      }).finish();
      await repo.insertPayment({
        deviceId: device.deviceId, clientTransactionId: ctid, reference, recordSha256: '', recordCounter: 0, type: 'purchase', amountMinor: 0, currency: '',
        accountDelta: 0, panHash: '', decision: 'declined', reason, response: res, createdMs: now, reversedMs: now,
      });
      await this.history(device.deviceId, now, `${ctid} ${reference}: reversal of an unknown transaction (tombstone: a later authorization is declined)`);
      return { reversed: true, status: await this.status(device, ctid) };
    }
    if (p.decision === 'approved' && await repo.markReversed(device.deviceId, ctid, now)) {
      await this.issuer.reverse(p.panHash, p.accountDelta, p.reference, now);
      await this.history(device.deviceId, now, `${ctid} ${p.reference}: reversed (${-p.accountDelta} restored)`);
    }
    const status = await this.status(device, ctid);
    return { reversed: !!status.reversed, status };
  }
}

export { Decline as PaymentDecline };
export { currentAnswer };

function maskMatches(masked: string, pan: string): boolean {
  if (masked.length !== pan.length) return false;
  for (let i = 0; i < pan.length; i++) if (masked[i] !== '*' && masked[i] !== pan[i]) return false;
  return true;
}

/** Six characters, one per random byte (ISO 8583 field 38). */
function authCode(random: Uint8Array): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  let s = '';
  for (let i = 0; i < 6; i++) s += alphabet[random[i] % alphabet.length];
  return s;
}
