// txsign TA: every transaction record gets a fresh monotonic counter (sealed, saved before the
// record is signed, so no two records ever share one and a rolled-back counter is refused by
// sealed storage), a signature by the device identity key (attest TA, COMMAND_SIGN) and a MAC
// under the current DUKPT MAC key (keystore TA) — the same KSN as the PIN block, if one was made.
// Offline (issue 14 §2, ./offline.ts): with the back end's signed offline policy installed, a
// record without a PIN may be signed, marked approved_offline and queued in sealed storage within
// the policy's limits, for the REE to upload in order when the back end is reachable again.
import { TrustedApp, Reply, Client, registerApp, uuidBytes } from "../lib/entry";
import {
  Command, TransactionRecord, TransactionType, SignTransactionRequest, SignTransactionResponse, GetStateResponse, TxsignState,
  SetOfflinePolicyRequest, SignOfflineRequest, OfflineStatus, OfflineState, OfflineRefusal, QueuedRecord,
} from "../../proto/gen/as/txsign";
import { SignRequest, SignResponse } from "../../proto/gen/as/attest";
import { loadOffline, saveOffline, storageStatus, verifiedPolicy, policyProblem, dropUploaded, refusalFor, refusalName } from "./offline";
import {
  DukptGenerateMacRequest, DukptGenerateMacResponse, DukptNextTransactionRequest, DukptEncryptDataRequest, DukptEncryptDataResponse,
  Command as KsCommand,
} from "../../proto/gen/as/keystore";
import { Command as AttestCommand } from "../../proto/gen/as/attest";
import { lastDecodeError } from "../../proto/as/pb";
import { TXSIGN_UUID, ATTEST_UUID, KEYSTORE_UUID } from "../lib/uuids";
import { invokeTa, TaAnswer } from "../lib/ta-client";
import { bytesOf, equalCT, wipe } from "../lib/bytes";
import * as host from "../lib/host";
import {
  ERROR_BAD_PARAMETERS, ERROR_BAD_FORMAT, ERROR_ITEM_NOT_FOUND, ERROR_GENERIC, ERROR_OVERFLOW, ERROR_SECURITY, ERROR_ACCESS_DENIED,
} from "../lib/status";

const STATE_ID = bytesOf("state");
const attest = uuidBytes(ATTEST_UUID);
const keystore = uuidBytes(KEYSTORE_UUID);

let lastStatus: i32 = 0;

function loadCounter(): i64 {
  const n = host.storage_size(STATE_ID.dataStart, STATE_ID.length);
  if (n == <i32>ERROR_ITEM_NOT_FOUND) return 0;
  if (n < 0) { lastStatus = n; return -1; }
  const buf = new Uint8Array(n);
  const r = host.storage_read(STATE_ID.dataStart, STATE_ID.length, buf.dataStart, n);
  if (r < 0) { lastStatus = r; return -1; }
  const st = TxsignState.decode(buf);
  if (!st) { lastStatus = <i32>ERROR_SECURITY; return -1; }
  return <i64>st.counter;
}

function saveCounter(c: u64): i32 {
  const st = new TxsignState();
  st.counter = c;
  const b = st.encode();
  return host.storage_write(STATE_ID.dataStart, STATE_ID.length, b.dataStart, b.length);
}

function digits(s: string, min: i32, max: i32): bool {
  if (s.length < min || s.length > max) return false;
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c < 48 || c > 57) return false; }
  return true;
}

/** A masked PAN shows at most its first 6 and last 4 digits; everything between is '*'. */
function properlyMasked(p: string): bool {
  if (p.length == 0) return true;
  if (p.length < 12 || p.length > 19) return false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    const visible = i < 6 || i >= p.length - 4;
    if (visible ? !(c >= 48 && c <= 57) && c != 42 : c != 42) return false;
  }
  return true;
}

function checkRecord(r: TransactionRecord): string {
  if (r.counter != 0) return "counter is assigned by the TA: leave it 0";
  if (r.type != TransactionType.TRANSACTION_TYPE_PURCHASE && r.type != TransactionType.TRANSACTION_TYPE_REFUND) return "type must be purchase or refund";
  if (r.amountMinor == 0 || r.amountMinor > 999999999999) return "amount must be 1..999999999999 minor units (EMV n12)";
  if (!digits(r.currency, 3, 3)) return "currency must be 3 ISO 4217 numeric digits";
  if (r.merchantId.length == 0 || r.merchantId.length > 15) return "merchant_id must be 1..15 characters";
  if (r.terminalId.length == 0 || r.terminalId.length > 8) return "terminal_id must be 1..8 characters";
  if (!properlyMasked(r.maskedPan)) return "masked_pan may show only the first 6 and last 4 digits";
  if (r.maskedPan.length == 0 && r.panToken.length == 0) return "a masked PAN or a PAN token is required";
  if (r.applicationCryptogram.length != 0 && r.applicationCryptogram.length != 8) return "application_cryptogram must be 8 bytes";
  if (r.cryptogramData.length > 1024) return "cryptogram_data must be at most 1024 bytes";
  if (r.pinKsn.length != 0 && r.pinKsn.length != 10 && r.pinKsn.length != 12) return "pin_ksn must be a 10-byte (TDES) or 12-byte (AES) KSN";
  if (r.clientTransactionId.length == 0 || r.clientTransactionId.length > 64) return "client_transaction_id must be 1..64 characters";
  if (r.encryptedCardData.length != 0) return "encrypted_card_data is set by the TA: send sensitive_card_data";
  if (r.approvedOffline) return "approved_offline is set by the TA: use COMMAND_SIGN_OFFLINE";
  return "";
}

function refused(reply: Reply, a: TaAnswer, what: string): void {
  reply.fail(<u32>a.status, what + ": " + a.reason);
}

function refusedNull(reply: Reply, a: TaAnswer, what: string): SignTransactionResponse | null {
  refused(reply, a, what);
  return null;
}

function failed(reply: Reply, status: u32, what: string): SignTransactionResponse | null {
  reply.fail(status, what);
  return null;
}

function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  host.digest(host.ALG_SHA256, data.dataStart, data.length, out.dataStart);
  return out;
}

function statusOf(st: OfflineState): OfflineStatus {
  const res = new OfflineStatus();
  res.policy = st.policy;
  res.queue = st.queue;
  return res;
}

class Txsign extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    if (command == Command.COMMAND_SIGN_TRANSACTION) return this.sign(input, reply);
    if (command == Command.COMMAND_GET_STATE) {
      const c = loadCounter();
      if (c < 0) return reply.fail(<u32>lastStatus, "reading the transaction counter failed in sealed storage");
      const res = new GetStateResponse();
      res.counter = <u64>c;
      return reply.ok(res.encode());
    }
    if (command == Command.COMMAND_SET_OFFLINE_POLICY) return this.setOfflinePolicy(input, reply);
    if (command == Command.COMMAND_SIGN_OFFLINE) return this.signOffline(input, reply);
    if (command == Command.COMMAND_GET_OFFLINE_QUEUE) {
      const st = loadOffline();
      if (!st) return reply.fail(<u32>storageStatus, "the sealed offline queue is unreadable: altered or rolled back");
      return reply.ok(statusOf(st).encode());
    }
    reply.fail(ERROR_BAD_PARAMETERS, "unknown command " + command.toString());
  }

  sign(input: Uint8Array, reply: Reply): void {
    const req = SignTransactionRequest.decode(input);
    if (!req) return reply.fail(ERROR_BAD_FORMAT, "malformed SignTransactionRequest (decode error " + lastDecodeError().toString() + ")");
    const res = this.signRecord(req, false, reply);
    if (res) reply.ok(res.encode());
  }

  /** Installs the back end's signed offline policy; it also acknowledges the records the back end
   * has journaled, which leave the queue. */
  setOfflinePolicy(input: Uint8Array, reply: Reply): void {
    const req = SetOfflinePolicyRequest.decode(input);
    if (!req) return reply.fail(ERROR_BAD_FORMAT, "malformed SetOfflinePolicyRequest (decode error " + lastDecodeError().toString() + ")");
    const signed = req.signed;
    if (!signed) return reply.fail(ERROR_BAD_PARAMETERS, "signed is required");
    const key = req.tokenPublicKey;
    if (key.length != 65 || key[0] != 4) return reply.fail(ERROR_BAD_PARAMETERS, "token_public_key must be an uncompressed P-256 point (65 bytes)");
    const st = loadOffline();
    if (!st) return reply.fail(<u32>storageStatus, "the sealed offline queue is unreadable: altered or rolled back");
    if (st.tokenPublicKey.length && !equalCT(st.tokenPublicKey, key)) return reply.fail(ERROR_ACCESS_DENIED, "a different verdict-token key is already pinned");
    const p = verifiedPolicy(key, signed.policy, signed.signature);
    if (!p) return reply.fail(ERROR_SECURITY, "the offline policy's signature does not verify under the back end's token key");
    const bad = policyProblem(p);
    if (bad.length) return reply.fail(ERROR_BAD_PARAMETERS, bad);
    const cur = st.policy;
    if (cur && p.issuedMs < cur.issuedMs) return reply.fail(ERROR_ACCESS_DENIED, "the offline policy is older than the one installed");
    // The back end has journaled records up to this counter: ours can never be below it unless
    // this TEE's storage was set back (restored whole); then nothing offline is trusted.
    const counter = loadCounter();
    if (counter < 0) return reply.fail(<u32>lastStatus, "the sealed transaction counter is unreadable or was rolled back");
    if (<u64>counter < p.uploadedThroughCounter) {
      return reply.fail(ERROR_SECURITY, "rollback: the transaction counter " + counter.toString() + " is below the " + p.uploadedThroughCounter.toString() + " the back end journaled: this device's storage was restored");
    }
    st.tokenPublicKey = key;
    st.policy = p;
    dropUploaded(st, p.uploadedThroughCounter);
    const s = saveOffline(st);
    if (s < 0) return reply.fail(<u32>s, "saving the offline policy failed");
    reply.ok(statusOf(st).encode());
  }

  /** Signs a record approved offline and queues it, within the installed policy's limits. */
  signOffline(input: Uint8Array, reply: Reply): void {
    const req = SignOfflineRequest.decode(input);
    if (!req) return reply.fail(ERROR_BAD_FORMAT, "malformed SignOfflineRequest (decode error " + lastDecodeError().toString() + ")");
    const sreq = req.sign;
    if (!sreq || !sreq.record) return reply.fail(ERROR_BAD_PARAMETERS, "sign.record is required");
    const rec = sreq.record!;
    const why = checkRecord(rec);
    if (why.length) { wipe(sreq.sensitiveCardData); return reply.fail(ERROR_BAD_PARAMETERS, why); }
    const st = loadOffline();
    if (!st) { wipe(sreq.sensitiveCardData); return reply.fail(<u32>storageStatus, "the sealed offline queue is unreadable: altered or rolled back"); }
    const t = host.ree_time_ms();
    const refusal = refusalFor(st, rec, req.cvm, t > 0 ? <u64>t : 0);
    if (refusal != OfflineRefusal.OFFLINE_REFUSAL_UNSPECIFIED) {
      wipe(sreq.sensitiveCardData);
      return reply.fail(ERROR_ACCESS_DENIED, "offline payment refused: " + refusalName(refusal));
    }
    const res = this.signRecord(sreq, true, reply);
    if (!res) return;
    // The policy names the device key it was issued for: the key that just signed must be it.
    // (Checked here, where the attest TA hands over the signing key, and not at install: an
    // unprovisioned TEE has no certified identity to ask for.)
    if (!equalCT(sha256(res.devicePublicKey), st.policy!.deviceKeySha256)) {
      return reply.fail(ERROR_ACCESS_DENIED, "offline payment refused: the offline policy is for another device");
    }
    const q = new QueuedRecord();
    const encoded = res.encode();
    q.signedTransaction = encoded;
    q.counter = rec.counter;
    q.amountMinor = rec.amountMinor;
    q.currency = rec.currency;
    q.timestampMs = rec.timestampMs;
    q.cvm = req.cvm;
    q.aid = req.aid;
    q.clientTransactionId = rec.clientTransactionId;
    st.queue.push(q);
    // Queued before the answer: a record the REE was told is approved offline is in the queue.
    const s = saveOffline(st);
    if (s < 0) return reply.fail(<u32>s, "saving the offline queue failed");
    reply.ok(encoded);
  }

  /** Counter, DUKPT transaction, card data encryption, MAC and signature of one record; null
   * after replying with the failure. */
  signRecord(req: SignTransactionRequest, offline: bool, reply: Reply): SignTransactionResponse | null {
    const rec = req.record;
    if (!rec) { reply.fail(ERROR_BAD_PARAMETERS, "record is required"); return null; }
    const why = checkRecord(rec);
    if (why.length) { wipe(req.sensitiveCardData); reply.fail(ERROR_BAD_PARAMETERS, why); return null; }
    if (req.dukptKeyId.length == 0) { wipe(req.sensitiveCardData); reply.fail(ERROR_BAD_PARAMETERS, "dukpt_key_id is required"); return null; }
    if (req.sensitiveCardData.length > 256) { wipe(req.sensitiveCardData); reply.fail(ERROR_BAD_PARAMETERS, "sensitive_card_data must be at most 256 bytes"); return null; }
    rec.approvedOffline = offline;

    // 1. The counter moves first and is saved: a crash after this wastes a number, never reuses one.
    const prev = loadCounter();
    if (prev < 0) { wipe(req.sensitiveCardData); return failed(reply, <u32>lastStatus, "the sealed transaction counter is unreadable or was rolled back"); }
    if (<u64>prev == 0xffffffffffffffff) { wipe(req.sensitiveCardData); return failed(reply, ERROR_OVERFLOW, "transaction counter exhausted"); }
    const counter = <u64>prev + 1;
    const s = saveCounter(counter);
    if (s < 0) { wipe(req.sensitiveCardData); return failed(reply, <u32>s, "saving the transaction counter failed"); }
    rec.counter = counter;

    // 2. Without a PIN this transaction still needs a fresh DUKPT key: start one.
    if (rec.pinKsn.length == 0) {
      const n = new DukptNextTransactionRequest();
      n.keyId = req.dukptKeyId;
      const a = invokeTa(keystore, KsCommand.COMMAND_DUKPT_NEXT_TRANSACTION, n.encode());
      if (!a.ok) { wipe(req.sensitiveCardData); return refusedNull(reply, a, "the keystore could not start a DUKPT transaction"); }
    }
    // 3. Card data goes into the record only encrypted, under the same transaction's data key.
    if (req.sensitiveCardData.length) {
      const e = new DukptEncryptDataRequest();
      e.keyId = req.dukptKeyId;
      e.data = req.sensitiveCardData;
      const msg = e.encode();
      wipe(req.sensitiveCardData);
      const ea = invokeTa(keystore, KsCommand.COMMAND_DUKPT_ENCRYPT_DATA, msg);
      wipe(msg);
      if (!ea.ok) return refusedNull(reply, ea, "the keystore could not encrypt the card data");
      const enc = DukptEncryptDataResponse.decode(ea.data);
      if (!enc) return failed(reply, ERROR_GENERIC, "the keystore's encryption answer does not decode");
      rec.encryptedCardData = enc.data;
    }
    const bytes = rec.encode();
    const m = new DukptGenerateMacRequest();
    m.keyId = req.dukptKeyId;
    m.data = bytes;
    const ma = invokeTa(keystore, KsCommand.COMMAND_DUKPT_GENERATE_MAC, m.encode());
    if (!ma.ok) return refusedNull(reply, ma, "the keystore refused the MAC");
    const mac = DukptGenerateMacResponse.decode(ma.data);
    if (!mac) return failed(reply, ERROR_GENERIC, "the keystore's MAC answer does not decode");
    if (rec.pinKsn.length != 0 && !equalCT(mac.ksn, rec.pinKsn)) {
      return failed(reply, ERROR_BAD_PARAMETERS, "pin_ksn is not the key set's current transaction: the PIN block belongs to another transaction");
    }

    // 4. The device key signs the exact record bytes (attest TA, label trusttap/ta-sign/v1).
    const sr = new SignRequest();
    sr.message = bytes;
    const sa = invokeTa(attest, AttestCommand.COMMAND_SIGN, sr.encode());
    if (!sa.ok) return refusedNull(reply, sa, "the attest TA refused to sign");
    const sig = SignResponse.decode(sa.data);
    if (!sig) return failed(reply, ERROR_GENERIC, "the attest TA's answer does not decode");

    const res = new SignTransactionResponse();
    res.record = bytes;
    res.signature = sig.signature;
    res.devicePublicKey = sig.publicKey;
    res.mac = mac.mac;
    res.macKsn = mac.ksn;
    return res;
  }
}

registerApp(new Txsign("txsign", "0.1.0", uuidBytes(TXSIGN_UUID)));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy,
} from "../lib/entry";
