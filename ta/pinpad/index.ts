// Pinpad TA: trusted PIN entry for one card transaction (docs/pinpad.md). The REE payment app
// provisions it once (the back end's verdict-token key; the device binding comes from the attest
// TA), asks it for a nonce, gets a verdict token for that nonce from the back end, and starts the
// entry; the command stays pending while the person types on the trusted UI, and answers only
// {encrypted PIN block, KSN, format} or a typed outcome. No TA may drive it (TA sessions are
// refused): PIN entry belongs to the payment app's transaction, and the digits never leave.
import { TrustedApp, Reply, Client, registerApp, uuidBytes, LOGIN_TRUSTED_APP } from "../lib/entry";
import * as host from "../lib/host";
import { PINPAD_UUID, ATTEST_UUID } from "../lib/uuids";
import { lastDecodeError } from "../../proto/as/pb";
import {
  Command, ProvisionRequest, ProvisionResponse, NonceResponse, StartEntryRequest, EntryResponse, Outcome,
  PinFormat, Accessibility, TokenRefusal, StatusResponse, SetPolicyRequest, SetPolicyResponse,
} from "../../proto/gen/as/pinpad";
import { IdentityResponse } from "../../proto/gen/as/attest";
import {
  ERROR_ACCESS_DENIED, ERROR_BAD_FORMAT, ERROR_BAD_PARAMETERS, ERROR_BUSY, ERROR_GENERIC, ERROR_NOT_SUPPORTED, SUCCESS,
} from "../lib/status";
import { equalCT } from "../lib/bytes";
import * as state from "./state";
import { NonceSlot, newNonce, checkToken, sha256 } from "./token";
import { randomLayout, screenFor, formatAmount } from "./layout";
import { Entry, active, begin, onEvent, drop, panDigits } from "./pin-entry";

const attestUuid = uuidBytes(ATTEST_UUID);
const ATTEST_GET_IDENTITY: u32 = 1;

const nonces = new Map<u32, NonceSlot>();

function decodeFailed(reply: Reply, what: string): void {
  reply.fail(ERROR_BAD_FORMAT, "malformed " + what + " (decode error " + lastDecodeError().toString() + ")");
}

function storageFailed(reply: Reply, what: string): void {
  const s = <u32>state.storageStatus;
  reply.fail(s == 0 ? ERROR_GENERIC : s, what + " failed in sealed storage");
}

/** SHA-256 of the device identity public key, from the attest TA. */
function deviceKeyHash(reply: Reply): Uint8Array | null {
  const s = host.session_open(attestUuid.dataStart);
  if (s < 0) { reply.fail(<u32>s, "no session to the attest TA"); return null; }
  const out = new Uint8Array(16 * 1024);
  const empty = new Uint8Array(0);
  const n = host.session_invoke(s, ATTEST_GET_IDENTITY, empty.dataStart, 0, out.dataStart, out.length);
  host.session_close(s);
  if (n < 0) { reply.fail(<u32>n, "the attest TA gave no device identity"); return null; }
  const id = IdentityResponse.decode(out.subarray(0, n));
  if (!id || id.publicKey.length != 65) { reply.fail(ERROR_GENERIC, "the attest TA's identity does not decode"); return null; }
  return sha256(id.publicKey);
}

class Pinpad extends TrustedApp {
  openSession(session: u32, client: Client): u32 {
    if (client.login == LOGIN_TRUSTED_APP) return ERROR_ACCESS_DENIED;
    return SUCCESS;
  }

  invoke(session: u32, client: Client, command: u32, input: Uint8Array, reply: Reply): void {
    switch (command) {
      case Command.COMMAND_PROVISION: return this.provision(input, reply);
      case Command.COMMAND_GET_NONCE: return this.nonce(session, reply);
      case Command.COMMAND_START_ENTRY: return this.start(session, input, reply);
      case Command.COMMAND_GET_STATUS: return this.status(reply);
      case Command.COMMAND_SET_POLICY: return this.setPolicy(input, reply);
    }
    reply.fail(ERROR_BAD_PARAMETERS, "unknown command " + command.toString());
  }

  provision(input: Uint8Array, reply: Reply): void {
    const req = ProvisionRequest.decode(input);
    if (!req) return decodeFailed(reply, "ProvisionRequest");
    const key = req.tokenPublicKey;
    if (key.length != 65 || key[0] != 4) return reply.fail(ERROR_BAD_PARAMETERS, "token_public_key must be an uncompressed P-256 point (65 bytes)");
    const cfg = state.loadConfig();
    if (!cfg) return storageFailed(reply, "reading the configuration");
    const res = new ProvisionResponse();
    if (cfg.tokenPublicKey.length) {
      if (!equalCT(cfg.tokenPublicKey, key)) return reply.fail(ERROR_ACCESS_DENIED, "a different verdict-token key is already pinned");
      res.deviceKeySha256 = cfg.deviceKeySha256;
      return reply.ok(res.encode());
    }
    const dev = deviceKeyHash(reply);
    if (!dev) return;
    cfg.tokenPublicKey = key;
    cfg.deviceKeySha256 = dev;
    if (state.saveConfig(cfg) < 0) return storageFailed(reply, "saving the configuration");
    res.newlyProvisioned = true;
    res.deviceKeySha256 = dev;
    reply.ok(res.encode());
  }

  nonce(session: u32, reply: Reply): void {
    // Each nonce opens a new entry epoch, sealed before the nonce leaves (issue 17 §1).
    const tries = state.loadTries();
    if (!tries) return storageFailed(reply, "reading the try counter");
    tries.epoch += 1;
    if (state.saveTries(tries) < 0) return storageFailed(reply, "counting the entry epoch");
    const slot = newNonce(tries.epoch);
    nonces.set(session, slot);
    const res = new NonceResponse();
    res.nonce = slot.nonce;
    reply.ok(res.encode());
  }

  start(session: u32, input: Uint8Array, reply: Reply): void {
    const req = StartEntryRequest.decode(input);
    if (!req) return decodeFailed(reply, "StartEntryRequest");
    // The nonce is spent by any attempt, whatever its result.
    const slot: NonceSlot | null = nonces.has(session) ? nonces.get(session) : null;
    nonces.delete(session);
    if (active) return reply.fail(ERROR_BUSY, "a PIN entry is already in progress");
    const pan = panDigits(req.pan);
    if (!pan) return reply.fail(ERROR_BAD_PARAMETERS, "pan must be 12..19 ASCII digits");
    if (req.currency.length != 3) { pan.fill(0); return reply.fail(ERROR_BAD_PARAMETERS, "currency must be an ISO 4217 alphabetic code"); }
    if (req.currencyExponent > 4) { pan.fill(0); return reply.fail(ERROR_BAD_PARAMETERS, "currency_exponent must be 0..4"); }
    if (req.keySetId.length == 0 || req.keySetId.length > 48) { pan.fill(0); return reply.fail(ERROR_BAD_PARAMETERS, "key_set_id must be 1..48 characters"); }
    const cfg = state.loadConfig();
    if (!cfg) { pan.fill(0); return storageFailed(reply, "reading the configuration"); }
    const policy = cfg.policy!;
    let format = req.format == PinFormat.PIN_FORMAT_DEFAULT ? policy.defaultFormat : req.format;
    if (format != PinFormat.PIN_FORMAT_ISO_4 && format != PinFormat.PIN_FORMAT_ISO_0 && format != PinFormat.PIN_FORMAT_UNIONPAY_SM4) { pan.fill(0); return reply.fail(ERROR_BAD_PARAMETERS, "unknown PIN block format"); }

    const refusal = checkToken(cfg, policy, req.verdictToken, req.verdictSignature, slot);
    if (refusal != TokenRefusal.TOKEN_REFUSAL_UNSPECIFIED) {
      pan.fill(0);
      const res = new EntryResponse();
      res.outcome = Outcome.OUTCOME_TOKEN_REFUSED;
      res.tokenRefusal = refusal;
      return reply.ok(res.encode());
    }
    const tries = state.loadTries();
    if (!tries) { pan.fill(0); return storageFailed(reply, "reading the try counter"); }
    const wait = state.retryAfter(tries, policy);
    if (wait > 0) {
      pan.fill(0);
      const res = new EntryResponse();
      res.outcome = Outcome.OUTCOME_LOCKED_OUT;
      res.retryAfterMs = wait;
      res.failures = tries.failures;
      return reply.ok(res.encode());
    }

    const accessible = policy.accessibility == Accessibility.ACCESSIBILITY_ALWAYS
      || (policy.accessibility == Accessibility.ACCESSIBILITY_ON_REQUEST && req.accessible);
    const digitAt = randomLayout();
    const lines = new Array<string>();
    lines.push("Amount: " + formatAmount(req.amountMinor, req.currency, req.currencyExponent));
    const screen = screenFor(digitAt, accessible, lines);
    const bytes = screen.encode();
    const shown = host.tui_begin(bytes.dataStart, bytes.length, policy.timeoutMs);
    if (shown < 0) {
      digitAt.fill(0); pan.fill(0);
      return reply.fail(<u32>shown, "the trusted UI is not available");
    }
    // Counted before the person types: an entry that never finishes is a failed one.
    tries.failures += 1;
    if (state.armBackoff(tries, policy) < 0) {
      digitAt.fill(0); pan.fill(0);
      return storageFailed(reply, "counting the try");
    }
    begin(new Entry(session, digitAt, pan, format, req.keySetId, policy, tries, screen, accessible));
    reply.pending();
  }

  tuiEvent(session: u32, kind: u32, position: u32, reply: Reply): void {
    onEvent(session, kind, position, reply);
  }

  status(reply: Reply): void {
    const cfg = state.loadConfig();
    if (!cfg) return storageFailed(reply, "reading the configuration");
    const tries = state.loadTries();
    if (!tries) return storageFailed(reply, "reading the try counter");
    const res = new StatusResponse();
    res.policy = cfg.policy;
    res.provisioned = cfg.tokenPublicKey.length == 65;
    res.failures = tries.failures;
    res.retryAfterMs = state.retryAfter(tries, cfg.policy!);
    res.entryActive = active != null;
    // Probe for a trusted UI with a zero timeout: a runtime without one answers NOT_SUPPORTED
    // before any other check; with one the zero timeout is refused (BAD_PARAMETERS, or BAD_STATE
    // / BUSY first), so nothing is ever shown.
    res.trustedUi = <u32>host.tui_begin(0, 0, 0) != ERROR_NOT_SUPPORTED;
    reply.ok(res.encode());
  }

  setPolicy(input: Uint8Array, reply: Reply): void {
    const req = SetPolicyRequest.decode(input);
    if (!req) return decodeFailed(reply, "SetPolicyRequest");
    if (!req.policy) return reply.fail(ERROR_BAD_PARAMETERS, "policy is required");
    const p = req.policy!;
    const why = state.checkPolicy(p);
    if (why.length) return reply.fail(ERROR_BAD_PARAMETERS, why);
    const cfg = state.loadConfig();
    if (!cfg) return storageFailed(reply, "reading the configuration");
    cfg.policy = p;
    if (state.saveConfig(cfg) < 0) return storageFailed(reply, "saving the configuration");
    const res = new SetPolicyResponse();
    res.policy = p;
    reply.ok(res.encode());
  }

  closeSession(session: u32): void {
    nonces.delete(session);
    drop(session);
  }

  destroy(): void {
    nonces.clear();
  }
}

registerApp(new Pinpad("pinpad", "0.1.0", uuidBytes(PINPAD_UUID)));

export {
  io_in, io_out, io_cap, ta_out_len, ta_create, ta_open_session, ta_invoke, ta_close_session, ta_destroy, ta_tui_event,
} from "../lib/entry";
