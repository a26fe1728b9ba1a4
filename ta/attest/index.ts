// attest TA: the device identity key (ECDSA P-256, made here, never exported), evidence signed
// with it over the runtime's own measurements and the REE's health signals, signatures for the
// back-end link and for the txsign TA, and the device side of remote key injection.
// Commands and formats: proto/attest.proto; design: docs/attestation.md.
import { toLowS } from "../lib/ecdsa-low-s";
import { TrustedApp, Reply, Client, registerApp, uuidBytes } from "../lib/entry";
import {
  Command, IdentityResponse, EvidenceRequest, EvidenceResponse, Evidence, SignedEvidence, Measurements,
  SignRequestRequest, SignRequestResponse, SignRequest, SignResponse, PinBackendKeyRequest,
  PinBackendKeyResponse, AgreeKekRequest, AgreeKekResponse, KeyAgreementOffer, CertificateChain,
} from "../../proto/gen/as/attest";
import { KeyAttributes, KeyAlgorithm, KeyUsage, ModeOfUse, Exportability, GenerateKeyResponse } from "../../proto/gen/as/keystore";
import { lastDecodeError } from "../../proto/as/pb";
import * as host from "../lib/host";
import { bytesOf, wipe, equalCT } from "../lib/bytes";
import { invokeTa } from "../lib/ta-client";
import * as identity from "./identity";
import { fixedInfo, deriveKeys, macTag } from "../lib/kek";
import {
  ERROR_BAD_PARAMETERS, ERROR_BAD_FORMAT, ERROR_ACCESS_DENIED, ERROR_ACCESS_CONFLICT, ERROR_BAD_STATE,
  ERROR_GENERIC, ERROR_SIGNATURE_INVALID, ERROR_MAC_INVALID, ERROR_ITEM_NOT_FOUND,
} from "../lib/status";

const UUID = "a77e5700-0d1c-4e0a-9b5e-a77e57a77e57";
/** The only TA that may ask for COMMAND_SIGN (reserved in ta/txsign/ta.json). */
const TXSIGN_UUID = "7a1c5e00-7e5f-4c0d-9a11-7857a7e5f160";
const KEYSTORE_UUID = "5b9e0e40-2636-11e1-ad9e-0002a5d5c51b";
/** Keystore command INSTALL_AGREED_KEK (proto/keystore.proto), accepted only from this TA. */
const KEYSTORE_INSTALL_AGREED_KEK: u32 = 100;

/** Signature labels: the device key signs label || 0x00 || bytes (proto/attest.proto). */
const LABEL_EVIDENCE = "trusttap/evidence/v1";
const LABEL_DEVICE_REQUEST = "trusttap/device-request/v1";
const LABEL_TA_SIGN = "trusttap/ta-sign/v1";

export const EVIDENCE_FORMAT: u32 = 1;
const MIN_NONCE: i32 = 16;
const MAX_NONCE: i32 = 64;
const MAX_REQUEST: i32 = 32768;
const MAX_TA_MESSAGE: i32 = 16384;

const txsignUuid = uuidBytes(TXSIGN_UUID);
const keystoreUuid = uuidBytes(KEYSTORE_UUID);

function decodeFailed(reply: Reply, what: string): void {
  reply.fail(ERROR_BAD_FORMAT, "malformed " + what + " (decode error " + lastDecodeError().toString() + ")");
}

function storageFailed(reply: Reply, what: string): void {
  const s = <u32>identity.lastStatus;
  reply.fail(s == 0 ? ERROR_GENERIC : s, what + " failed in sealed storage");
}

/** ECDSA P-256/SHA-256 r||s over label || 0x00 || prefix || data. */
function signLabelled(id: identity.Identity, label: string, prefix: Uint8Array, data: Uint8Array): Uint8Array | null {
  const l = bytesOf(label);
  const msg = new Uint8Array(l.length + 1 + prefix.length + data.length);
  msg.set(l, 0);
  msg.set(prefix, l.length + 1);
  msg.set(data, l.length + 1 + prefix.length);
  const sig = new Uint8Array(64);
  const n = host.ecc_sign(host.ALG_ECDSA_P256, id.priv.dataStart, msg.dataStart, msg.length, sig.dataStart);
  if (n != 64) return null;
  toLowS(sig); // the one encoding verifiers accept (lib/ecdsa-low-s.ts)
  return sig;
}

function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  host.digest(host.ALG_SHA256, data.dataStart, data.length, out.dataStart);
  return out;
}

function validKeyId(id: string): bool {
  if (id.length == 0 || id.length > 48) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 45)) return false;
  }
  return true;
}

/** The runtime's measurements (host function), decoded; null with a status in reply. */
function measurements(reply: Reply): Measurements | null {
  let cap = 4096;
  for (let attempt = 0; attempt < 2; attempt++) {
    const buf = new Uint8Array(cap);
    const n = host.attest_measurements(buf.dataStart, buf.length);
    if (n >= 0) {
      const m = Measurements.decode(buf.subarray(0, n));
      if (!m) { reply.fail(ERROR_GENERIC, "the runtime's measurements do not decode"); return null; }
      return m;
    }
    if (<u32>n != 0xffff0010) { reply.fail(<u32>n, "the runtime offers no measurements"); return null; }
    cap = 65536;
  }
  reply.fail(ERROR_GENERIC, "measurements larger than 64 KiB");
  return null;
}

/** InstallAgreedKekRequest {key_id = 1, material = 2, attributes = 3} (proto/keystore.proto),
 * written by hand into one buffer so the KEK has exactly one copy here, wiped by the caller. */
function installKekMessage(keyId: string, kek: Uint8Array, attrs: Uint8Array): Uint8Array {
  const id = bytesOf(keyId);
  const out = new Uint8Array(2 + id.length + 2 + kek.length + 2 + attrs.length);
  let p = 0;
  out[p++] = 0x0a; out[p++] = <u8>id.length; out.set(id, p); p += id.length;
  out[p++] = 0x12; out[p++] = <u8>kek.length; out.set(kek, p); p += kek.length;
  out[p++] = 0x1a; out[p++] = <u8>attrs.length; out.set(attrs, p);
  return out;
}

class Attest extends TrustedApp {
  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    switch (command) {
      case Command.COMMAND_GET_IDENTITY: this.getIdentity(reply); break;
      case Command.COMMAND_GET_EVIDENCE: this.getEvidence(input, reply); break;
      case Command.COMMAND_SIGN_REQUEST: this.signRequest(input, reply); break;
      case Command.COMMAND_SIGN: this.signForTa(client, input, reply); break;
      case Command.COMMAND_PIN_BACKEND_KEY: this.pinBackendKey(input, reply); break;
      case Command.COMMAND_AGREE_KEK: this.agreeKek(input, reply); break;
      default: reply.fail(ERROR_BAD_PARAMETERS, "unknown command " + command.toString());
    }
  }

  getIdentity(reply: Reply): void {
    const id = identity.loadOrCreate();
    if (!id) return storageFailed(reply, "loading the identity key");
    id.wipe();
    const raw = identity.oemChain(id.pub);
    if (!raw) {
      const s = <u32>identity.lastStatus;
      return reply.fail(s == 0 ? ERROR_GENERIC : s, "the OEM attestation key did not certify the identity key (is the device provisioned?)");
    }
    const chain = CertificateChain.decode(raw);
    if (!chain) return reply.fail(ERROR_GENERIC, "stored OEM chain does not decode");
    const res = new IdentityResponse();
    res.publicKey = id.pub;
    res.chain = chain;
    reply.ok(res.encode());
  }

  getEvidence(input: Uint8Array, reply: Reply): void {
    const req = EvidenceRequest.decode(input);
    if (!req) return decodeFailed(reply, "EvidenceRequest");
    if (req.nonce.length < MIN_NONCE || req.nonce.length > MAX_NONCE) return reply.fail(ERROR_BAD_PARAMETERS, "nonce must be 16..64 bytes");
    const m = measurements(reply);
    if (!m) return;
    const id = identity.loadOrCreate();
    if (!id) return storageFailed(reply, "loading the identity key");
    const ev = new Evidence();
    ev.formatVersion = EVIDENCE_FORMAT;
    ev.measurements = m;
    ev.ree = req.ree;
    ev.nonce = req.nonce;
    ev.devicePublicKey = id.pub;
    ev.signedAtMs = <u64>host.ree_time_ms();
    // The REE client's measurement (issue 16 §2) is signed with the rest: it cannot be changed
    // after signing, and a verifier sees exactly what the client (or its platform) reported.
    ev.client = req.client;
    const bytes = ev.encode();
    const sig = signLabelled(id, LABEL_EVIDENCE, new Uint8Array(0), bytes);
    id.wipe();
    if (!sig) return reply.fail(ERROR_GENERIC, "signing the evidence failed");
    const se = new SignedEvidence();
    se.evidence = bytes;
    se.signature = sig;
    const res = new EvidenceResponse();
    res.evidence = se;
    reply.ok(res.encode());
  }

  signRequest(input: Uint8Array, reply: Reply): void {
    const req = SignRequestRequest.decode(input);
    if (!req) return decodeFailed(reply, "SignRequestRequest");
    if (req.request.length < 1 || req.request.length > MAX_REQUEST) return reply.fail(ERROR_BAD_PARAMETERS, "request must be 1..32768 bytes");
    const id = identity.loadOrCreate();
    if (!id) return storageFailed(reply, "loading the identity key");
    const sig = signLabelled(id, LABEL_DEVICE_REQUEST, new Uint8Array(0), req.request);
    id.wipe();
    if (!sig) return reply.fail(ERROR_GENERIC, "signing failed");
    const res = new SignRequestResponse();
    res.signature = sig;
    reply.ok(res.encode());
  }

  /** TA-to-TA from txsign only: the caller's UUID (from the runtime) is part of what is signed. */
  signForTa(client: Client, input: Uint8Array, reply: Reply): void {
    if (!client.isTa(txsignUuid)) return reply.fail(ERROR_ACCESS_DENIED, "SIGN is reserved for the txsign TA");
    const req = SignRequest.decode(input);
    if (!req) return decodeFailed(reply, "SignRequest");
    if (req.message.length < 1 || req.message.length > MAX_TA_MESSAGE) return reply.fail(ERROR_BAD_PARAMETERS, "message must be 1..16384 bytes");
    const id = identity.loadOrCreate();
    if (!id) return storageFailed(reply, "loading the identity key");
    const sig = signLabelled(id, LABEL_TA_SIGN, client.identity, req.message);
    id.wipe();
    if (!sig) return reply.fail(ERROR_GENERIC, "signing failed");
    const res = new SignResponse();
    res.signature = sig;
    res.publicKey = id.pub;
    reply.ok(res.encode());
  }

  pinBackendKey(input: Uint8Array, reply: Reply): void {
    const req = PinBackendKeyRequest.decode(input);
    if (!req) return decodeFailed(reply, "PinBackendKeyRequest");
    if (req.publicKey.length != 65 || req.publicKey[0] != 4) return reply.fail(ERROR_BAD_PARAMETERS, "public_key must be an uncompressed P-256 point (65 bytes)");
    const have = identity.backendKey();
    const res = new PinBackendKeyResponse();
    if (have) {
      if (!equalCT(have, req.publicKey)) return reply.fail(ERROR_ACCESS_CONFLICT, "a different back-end key is already pinned");
      res.newlyPinned = false;
      return reply.ok(res.encode());
    }
    if (identity.lastStatus != <i32>ERROR_ITEM_NOT_FOUND) return storageFailed(reply, "reading the pinned key");
    if (identity.pinBackendKey(req.publicKey) < 0) return storageFailed(reply, "pinning the key");
    res.newlyPinned = true;
    reply.ok(res.encode());
  }

  agreeKek(input: Uint8Array, reply: Reply): void {
    const req = AgreeKekRequest.decode(input);
    if (!req) return decodeFailed(reply, "AgreeKekRequest");
    const backend = identity.backendKey();
    if (!backend) {
      if (identity.lastStatus == <i32>ERROR_ITEM_NOT_FOUND) return reply.fail(ERROR_BAD_STATE, "no back-end key pinned: enrol first");
      return storageFailed(reply, "reading the pinned key");
    }
    const offerBytes = req.offer;
    const sig = req.offerSignature;
    if (host.ecc_verify(host.ALG_ECDSA_P256, backend.dataStart, backend.length, offerBytes.dataStart, offerBytes.length, sig.dataStart, sig.length) != 0) {
      return reply.fail(ERROR_SIGNATURE_INVALID, "the offer is not signed by the pinned back-end key");
    }
    const offer = KeyAgreementOffer.decode(offerBytes);
    if (!offer) return decodeFailed(reply, "KeyAgreementOffer");
    const eph = offer.backendEphemeralPublicKey;
    if (eph.length != 65 || eph[0] != 4) return reply.fail(ERROR_BAD_PARAMETERS, "backend_ephemeral_public_key must be an uncompressed P-256 point");
    if (!validKeyId(offer.kekKeyId)) return reply.fail(ERROR_BAD_PARAMETERS, "kek_key_id must be 1..48 characters of [A-Za-z0-9._-]");
    if (offer.sessionId.length < 1 || offer.sessionId.length > 64) return reply.fail(ERROR_BAD_PARAMETERS, "session_id must be 1..64 characters");
    if (offer.expiresMs < <u64>host.ree_time_ms()) return reply.fail(ERROR_BAD_STATE, "the offer has expired");
    const id = identity.loadOrCreate();
    if (!id) return storageFailed(reply, "loading the identity key");
    if (!equalCT(sha256(id.pub), offer.deviceKeySha256)) { id.wipe(); return reply.fail(ERROR_BAD_PARAMETERS, "the offer is for another device key"); }

    const z = new Uint8Array(32);
    const zs = host.ecdh(id.priv.dataStart, eph.dataStart, eph.length, z.dataStart);
    id.wipe();
    if (zs < 0) { wipe(z); return reply.fail(<u32>zs, "ECDH with the back-end ephemeral key failed"); }
    const sid = bytesOf(offer.sessionId);
    const fixed = fixedInfo(id.pub, eph, sid);
    if (!fixed) { wipe(z); return reply.fail(ERROR_BAD_PARAMETERS, "fixed info too long"); }
    const keys = deriveKeys(z, fixed);
    wipe(z);
    const tagV = macTag(keys.kck, "KC_1_V", eph, id.pub, sid);
    if (!equalCT(tagV, offer.macTagV)) { keys.wipe(); return reply.fail(ERROR_MAC_INVALID, "key confirmation from the back end failed"); }

    const attrs = new KeyAttributes();
    attrs.algorithm = KeyAlgorithm.KEY_ALGORITHM_AES_256;
    attrs.usage = KeyUsage.KEY_USAGE_K1_TR31_KBPK;
    attrs.modeOfUse = ModeOfUse.MODE_OF_USE_D_DECRYPT;
    attrs.exportability = Exportability.EXPORTABILITY_N_NON_EXPORTABLE;
    const msg = installKekMessage(offer.kekKeyId, keys.kek, attrs.encode());
    const answer = invokeTa(keystoreUuid, KEYSTORE_INSTALL_AGREED_KEK, msg, 2048);
    wipe(msg);
    if (!answer.ok) { keys.wipe(); return reply.fail(<u32>answer.status, "the keystore refused the KEK: " + answer.reason); }
    // InstallAgreedKekResponse {KeyInfo key = 1} has GenerateKeyResponse's shape.
    const installed = GenerateKeyResponse.decode(answer.data);
    const res = new AgreeKekResponse();
    res.macTagU = macTag(keys.kck, "KC_1_U", id.pub, eph, sid);
    keys.wipe();
    res.keyId = offer.kekKeyId;
    if (installed && installed.key) res.kcv = installed.key!.kcv;
    reply.ok(res.encode());
  }
}

registerApp(new Attest("attest", "0.1.0", uuidBytes(UUID)));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy,
} from "../lib/entry";
