// DUKPT key sets in the keystore: the originator's registers live in the sealed record of a B1
// key; every state change is saved before any key of the new transaction is used, so the
// counter never goes back (sealed storage's rollback protection covers the record itself).
// One transaction encrypts at most one PIN block: a second PIN starts a new transaction. A
// transaction started for a record without a PIN (NEXT_TRANSACTION) is taken too, so a later PIN
// block never shares its KSN: one KSN, one payment (the back end refuses a KSN it has seen).
import { Reply } from "../lib/entry";
import {
  DukptStatus, DukptNextTransactionRequest, DukptNextTransactionResponse, DukptStatusRequest, DukptStatusResponse,
  DukptEncryptPinBlockRequest, DukptEncryptPinBlockResponse, DukptGenerateMacRequest, DukptGenerateMacResponse,
  DukptEncryptDataRequest, DukptEncryptDataResponse,
  PinBlockFormat,
} from "../../proto/gen/as/keystore";
import { StoredKey, DukptRegisters } from "../../proto/gen/as/keystore_sealed";
import { Originator } from "../lib/dukpt-originator";
import * as tdes from "../lib/dukpt-tdes";
import * as aes from "../lib/dukpt-aes";
import { wipe } from "../lib/bytes";
import { pad, PAD_METHOD_2 } from "../lib/padding";
import { ERROR_BAD_PARAMETERS } from "../lib/status";
import * as keyring from "./keyring";
import { Op } from "./policy";
import { keyFor, decodeFailed, storageFailed, algorithmFailed } from "./common";

function toOriginator(d: DukptRegisters): Originator {
  const o = new Originator();
  o.aes = d.aes;
  o.base = d.ksnBase;
  o.nextCounter = d.nextCounter;
  o.currentCounter = d.currentCounter;
  o.currentKey = d.currentKey;
  o.registers = d.registers;
  return o;
}

function fromOriginator(o: Originator, pinUsed: bool): DukptRegisters {
  const d = new DukptRegisters();
  d.aes = o.aes;
  d.ksnBase = o.base;
  d.nextCounter = o.nextCounter;
  d.currentCounter = o.currentCounter;
  d.currentKey = o.currentKey;
  d.registers = o.registers;
  d.pinUsed = pinUsed;
  return d;
}

export function statusOf(o: Originator): DukptStatus {
  const s = new DukptStatus();
  s.ksn = o.currentCounter != 0 ? o.ksnOf(o.currentCounter) : new Uint8Array(0);
  s.transactionsLeft = o.remaining();
  s.exhausted = o.exhausted();
  s.aes = o.aes;
  return s;
}

/** Turns an imported initial key into registers (the key itself is not kept). */
export function loadDukpt(reply: Reply, rec: StoredKey, initialKey: Uint8Array, keySetId: Uint8Array | null): bool {
  if (!keySetId) { reply.fail(ERROR_BAD_PARAMETERS, "a DUKPT initial key needs its key set identifier (KS block for TDES, IK block for AES)"); return false; }
  const isAes = initialKey.length != 16 || keySetId.length == aes.IKID_LEN;
  const o = new Originator();
  if (!o.load(initialKey, keySetId, isAes)) { algorithmFailed(reply, "loading the DUKPT initial key"); return false; }
  rec.dukpt = fromOriginator(o, false);
  rec.material = new Uint8Array(0);
  rec.info!.dukpt = statusOf(o);
  return true;
}

/** Saves the advanced state before anything of the new transaction is used; taken: no PIN block
 * may join this transaction (it was started for a record without one). */
function advance(reply: Reply, rec: StoredKey, o: Originator, taken: bool = false): bool {
  if (!o.begin()) { algorithmFailed(reply, "starting a DUKPT transaction"); return false; }
  rec.dukpt = fromOriginator(o, taken);
  rec.info!.dukpt = statusOf(o);
  if (keyring.save(rec) < 0) { storageFailed(reply, "saving the DUKPT state"); return false; }
  return true;
}

function wipeState(rec: StoredKey, o: Originator): void {
  o.clear();
  const d = rec.dukpt;
  if (d) { wipe(d.currentKey); for (let i = 0; i < d.registers.length; i++) wipe(d.registers[i]); }
}

function loadSet(reply: Reply, keyId: string): StoredKey | null {
  const rec = keyFor(reply, keyId, Op.DUKPT_DERIVE, "DUKPT key set");
  if (!rec) return null;
  if (!rec.dukpt) { reply.fail(ERROR_BAD_PARAMETERS, "key " + keyId + " holds no DUKPT state"); return null; }
  return rec;
}

export function nextTransaction(input: Uint8Array, reply: Reply): void {
  const req = DukptNextTransactionRequest.decode(input);
  if (!req) return decodeFailed(reply, "DukptNextTransactionRequest");
  const rec = loadSet(reply, req.keyId);
  if (!rec) return;
  const o = toOriginator(rec.dukpt!);
  if (advance(reply, rec, o, true)) {
    const res = new DukptNextTransactionResponse();
    res.status = statusOf(o);
    reply.ok(res.encode());
  }
  wipeState(rec, o);
}

export function status(input: Uint8Array, reply: Reply): void {
  const req = DukptStatusRequest.decode(input);
  if (!req) return decodeFailed(reply, "DukptStatusRequest");
  const rec = loadSet(reply, req.keyId);
  if (!rec) return;
  const o = toOriginator(rec.dukpt!);
  const res = new DukptStatusResponse();
  res.status = statusOf(o);
  wipeState(rec, o);
  reply.ok(res.encode());
}

/** From the pinpad TA only (checked in index.ts). */
export function encryptPinBlock(input: Uint8Array, reply: Reply): void {
  const req = DukptEncryptPinBlockRequest.decode(input);
  if (!req) return decodeFailed(reply, "DukptEncryptPinBlockRequest");
  const rec = loadSet(reply, req.keyId);
  if (!rec) { wipeReq(req); return; }
  const o = toOriginator(rec.dukpt!);
  if ((o.currentCounter == 0 || rec.dukpt!.pinUsed) && !advance(reply, rec, o)) { wipeState(rec, o); wipeReq(req); return; }
  let block: Uint8Array | null = null;
  const ksn = o.ksnOf(o.currentCounter);
  if (req.format == PinBlockFormat.PIN_BLOCK_FORMAT_ISO_0 && !o.aes) {
    if (req.clearPinBlock.length != 8) { wipeState(rec, o); wipeReq(req); return reply.fail(ERROR_BAD_PARAMETERS, "format 0 needs the 8-byte clear PIN block"); }
    block = tdes.encryptPinBlock(o.currentKey, req.clearPinBlock);
  } else if (req.format == PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4 && o.aes) {
    if (req.pinField.length != 16 || req.panField.length != 16) { wipeState(rec, o); wipeReq(req); return reply.fail(ERROR_BAD_PARAMETERS, "format 4 needs the 16-byte PIN field and PAN field"); }
    const pinKey = aes.workingKey(o.currentKey, ksn, aes.USAGE_PIN_ENCRYPTION, aes.aesKeyTypeOf(o.currentKey.length));
    if (pinKey) { block = aes.encryptPinBlock(pinKey, req.pinField, req.panField); wipe(pinKey); }
  } else {
    wipeState(rec, o); wipeReq(req);
    return reply.fail(ERROR_BAD_PARAMETERS, o.aes ? "AES DUKPT key sets encrypt ISO 9564 format 4 blocks" : "TDES DUKPT key sets encrypt ISO 9564 format 0 blocks");
  }
  wipeReq(req);
  if (!block) { wipeState(rec, o); return algorithmFailed(reply, "encrypting the PIN block"); }
  rec.dukpt = fromOriginator(o, true);
  const saved = keyring.save(rec);
  wipeState(rec, o);
  if (saved < 0) return storageFailed(reply, "saving the DUKPT state");
  const res = new DukptEncryptPinBlockResponse();
  res.encryptedPinBlock = block;
  res.ksn = ksn;
  reply.ok(res.encode());
}

function wipeReq(req: DukptEncryptPinBlockRequest): void {
  wipe(req.clearPinBlock);
  wipe(req.pinField);
  wipe(req.panField);
}

/** From the txsign TA only: the request MAC key of the current transaction (X9.19 retail MAC
 * for TDES, AES-CMAC with the MAC generation key for AES). */
export function generateMac(input: Uint8Array, reply: Reply): void {
  const req = DukptGenerateMacRequest.decode(input);
  if (!req) return decodeFailed(reply, "DukptGenerateMacRequest");
  const rec = loadSet(reply, req.keyId);
  if (!rec) return;
  const o = toOriginator(rec.dukpt!);
  if (o.currentCounter == 0 && !advance(reply, rec, o, true)) { wipeState(rec, o); return; }
  const ksn = o.ksnOf(o.currentCounter);
  const mac = o.aes
    ? aes.macWithUsage(o.currentKey, ksn, aes.aesKeyTypeOf(o.currentKey.length), req.data, false)
    : tdes.retailMacVariant(o.currentKey, req.data, false);
  wipeState(rec, o);
  if (!mac) return algorithmFailed(reply, "computing the DUKPT MAC");
  const res = new DukptGenerateMacResponse();
  res.mac = mac;
  res.ksn = ksn;
  reply.ok(res.encode());
}

/** From the txsign TA only: card data under the current transaction's data (request) key. */
export function encryptData(input: Uint8Array, reply: Reply): void {
  const req = DukptEncryptDataRequest.decode(input);
  if (!req) return decodeFailed(reply, "DukptEncryptDataRequest");
  if (req.data.length == 0 || req.data.length > 1024) { wipe(req.data); return reply.fail(ERROR_BAD_PARAMETERS, "data must be 1..1024 bytes"); }
  const rec = loadSet(reply, req.keyId);
  if (!rec) { wipe(req.data); return; }
  const o = toOriginator(rec.dukpt!);
  if (o.currentCounter == 0 && !advance(reply, rec, o, true)) { wipe(req.data); wipeState(rec, o); return; }
  const ksn = o.ksnOf(o.currentCounter);
  const padded = pad(req.data, PAD_METHOD_2, o.aes ? 16 : 8);
  wipe(req.data);
  if (!padded) { wipeState(rec, o); return algorithmFailed(reply, "padding the data"); }
  const out = o.aes
    ? aes.dataCipher(o.currentKey, ksn, aes.aesKeyTypeOf(o.currentKey.length), padded, new Uint8Array(16), false, false)
    : tdes.dataCipher(o.currentKey, padded, new Uint8Array(8), false, false);
  wipe(padded);
  wipeState(rec, o);
  if (!out) return algorithmFailed(reply, "encrypting the data");
  const res = new DukptEncryptDataResponse();
  res.data = out;
  res.ksn = ksn;
  reply.ok(res.encode());
}
