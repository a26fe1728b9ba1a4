// One PIN entry at a time: opened by START_ENTRY (after the token and try checks), driven by
// trusted-UI events, ended by OK (PIN block), cancel, timeout, abort or a too-short PIN. The
// digits live only in `digits`; the clear PIN, PIN field and clear PIN block are wiped as soon
// as the block request is built, and everything else when the entry ends. Formats 4 and 0 go to
// the keystore's DUKPT key set; the UnionPay SM4 block to a static SM4 P0 key.
import * as host from "../lib/host";
import { Reply, uuidBytes } from "../lib/entry";
import { KEYSTORE_UUID } from "../lib/uuids";
import { wipe } from "../lib/bytes";
import { pinFieldFormat4, panFieldFormat4, encodeFormat0 } from "../lib/pinblock";
import { encodeUnionPaySm4 } from "../lib/pinblock-sm4";
import { ErrorDetail } from "../../proto/gen/as/tee";
import { TuiScreen } from "../../proto/gen/as/tee";
import {
  Command as KsCommand, DukptEncryptPinBlockRequest, DukptEncryptPinBlockResponse, PinBlockFormat,
  EncryptPinBlockRequest, EncryptPinBlockResponse,
} from "../../proto/gen/as/keystore";
import { EntryResponse, Outcome, PinFormat, Policy, SealedTries } from "../../proto/gen/as/pinpad";
import { ERROR_GENERIC, ERROR_BAD_FORMAT, ERROR_BAD_STATE } from "../lib/status";
import { KEYS } from "./layout";
import { KEY_CLEAR, KEY_OK, KEY_CANCEL, keyAt } from "./keypad";
import * as state from "./state";

const keystoreUuid = uuidBytes(KEYSTORE_UUID);

export class Entry {
  digits: Uint8Array = new Uint8Array(12);
  len: i32 = 0;
  startedAt: f64 = 0;
  constructor(
    public session: u32,
    public digitAt: Uint8Array,
    public pan: Uint8Array,
    public format: PinFormat,
    public keySetId: string,
    public policy: Policy,
    public tries: SealedTries,
    public screen: TuiScreen,
    public accessible: bool,
  ) {}

  wipe(): void {
    wipe(this.digits);
    wipe(this.digitAt);
    wipe(this.pan);
    wipe(this.screen.pixels); // the drawing shows the layout as plainly as digitAt
    this.len = 0;
  }
}

export let active: Entry | null = null;

export function begin(e: Entry): void {
  e.startedAt = host.clock_ms();
  active = e;
}

function show(e: Entry, notice: string): void {
  e.screen.entered = <u32>e.len;
  e.screen.notice = notice;
  e.screen.speech = new Array<string>(); // the layout was spoken when the entry opened
  const b = e.screen.encode();
  host.tui_update(b.dataStart, b.length);
}

function finish(e: Entry, reply: Reply, outcome: Outcome): void {
  const res = new EntryResponse();
  res.outcome = outcome;
  res.accessible = e.accessible;
  e.wipe();
  active = null;
  // The try was counted when the entry opened; an unsuccessful end re-arms the backoff from now.
  state.armBackoff(e.tries, e.policy);
  res.failures = e.tries.failures;
  res.retryAfterMs = state.retryAfter(e.tries, e.policy);
  reply.ok(res.encode());
}

/** Ends the entry without an answer (its session closed). */
export function drop(session: u32): void {
  const e = active;
  if (e && e.session == session) {
    e.wipe();
    active = null;
    state.armBackoff(e.tries, e.policy);
  }
}

export function onEvent(session: u32, kind: u32, position: u32, reply: Reply): void {
  const e = active;
  if (!e || e.session != session) return reply.fail(ERROR_BAD_STATE, "no PIN entry is active on this session");
  if (kind != host.TUI_EVENT_ABORT && host.clock_ms() - e.startedAt > <f64>e.policy.timeoutMs) kind = host.TUI_EVENT_TIMEOUT;
  // A touch on the drawn keypad is mapped here, and only here, to the key under it.
  if (kind == host.TUI_EVENT_TOUCH_AT) {
    const key = keyAt(e.screen, position & 0xffff, position >>> 16);
    if (key < 0) { reply.pending(); return; } // between keys
    kind = host.TUI_EVENT_TOUCH;
    position = <u32>key;
  }
  if (kind == host.TUI_EVENT_TOUCH) {
    if (position == KEY_CLEAR) kind = host.TUI_EVENT_CLEAR;
    else if (position == KEY_OK) kind = host.TUI_EVENT_OK;
    else if (position == KEY_CANCEL) kind = host.TUI_EVENT_CANCEL;
    else if (position >= <u32>KEYS) { reply.pending(); return; } // not a key of this layout
    else {
      if (e.len >= <i32>e.policy.maxLength) { show(e, "Maximum PIN length"); reply.pending(); return; }
      e.digits[e.len++] = e.digitAt[position];
      show(e, "");
      reply.pending();
      return;
    }
  }
  if (kind == host.TUI_EVENT_CLEAR) {
    wipe(e.digits);
    e.len = 0;
    show(e, "");
    reply.pending();
    return;
  }
  if (kind == host.TUI_EVENT_OK) {
    if (e.len < <i32>e.policy.minLength) return finish(e, reply, Outcome.OUTCOME_PIN_TOO_SHORT);
    return complete(e, reply);
  }
  if (kind == host.TUI_EVENT_CANCEL) return finish(e, reply, Outcome.OUTCOME_CANCELLED);
  if (kind == host.TUI_EVENT_TIMEOUT) return finish(e, reply, Outcome.OUTCOME_TIMEOUT);
  if (kind == host.TUI_EVENT_ABORT) return finish(e, reply, Outcome.OUTCOME_ABORTED);
  reply.pending(); // unknown kinds are ignored
}

/** Builds the PIN block request, wiping the PIN and the clear fields as soon as it is encoded. */
function blockRequest(e: Entry): Uint8Array | null {
  if (e.format == PinFormat.PIN_FORMAT_UNIONPAY_SM4) return sm4Request(e);
  const pin = e.digits.subarray(0, e.len);
  const req = new DukptEncryptPinBlockRequest();
  req.keyId = e.keySetId;
  let ok = false;
  if (e.format == PinFormat.PIN_FORMAT_ISO_0) {
    req.format = PinBlockFormat.PIN_BLOCK_FORMAT_ISO_0;
    req.clearPinBlock = new Uint8Array(8);
    ok = encodeFormat0(pin, e.pan, req.clearPinBlock) >= 0;
  } else {
    req.format = PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4;
    req.pinField = new Uint8Array(16);
    req.panField = new Uint8Array(16);
    ok = pinFieldFormat4(pin, req.pinField) >= 0 && panFieldFormat4(e.pan, req.panField) >= 0;
  }
  wipe(e.digits);
  e.len = 0;
  const bytes: Uint8Array | null = ok ? req.encode() : null;
  wipe(req.clearPinBlock);
  wipe(req.pinField);
  wipe(req.panField);
  return bytes;
}

/** The UnionPay SM4 clear block (ta/lib/pinblock-sm4.ts) for the static SM4 P0 key named by
 * key_set_id; the keystore encrypts it with SM4-ECB (COMMAND_ENCRYPT_PIN_BLOCK). */
function sm4Request(e: Entry): Uint8Array | null {
  const req = new EncryptPinBlockRequest();
  req.keyId = e.keySetId;
  req.format = PinBlockFormat.PIN_BLOCK_FORMAT_UNIONPAY_SM4;
  req.clearPinBlock = new Uint8Array(16);
  const ok = encodeUnionPaySm4(e.digits.subarray(0, e.len), e.pan, req.clearPinBlock) >= 0;
  wipe(e.digits);
  e.len = 0;
  const bytes: Uint8Array | null = ok ? req.encode() : null;
  wipe(req.clearPinBlock);
  return bytes;
}

function complete(e: Entry, reply: Reply): void {
  const req = blockRequest(e);
  if (!req) {
    e.wipe();
    active = null;
    state.armBackoff(e.tries, e.policy);
    return reply.fail(ERROR_BAD_FORMAT, "the PIN block could not be built");
  }
  const s = host.session_open(keystoreUuid.dataStart);
  const out = new Uint8Array(1024);
  let n: i32 = s;
  if (s >= 0) {
    const cmd = e.format == PinFormat.PIN_FORMAT_UNIONPAY_SM4 ? KsCommand.COMMAND_ENCRYPT_PIN_BLOCK : KsCommand.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK;
    n = host.session_invoke(s, <u32>cmd, req.dataStart, req.length, out.dataStart, out.length);
    host.session_close(s);
  }
  wipe(req);
  const format = e.format;
  const accessible = e.accessible;
  e.wipe();
  active = null;
  if (n < 0) {
    state.armBackoff(e.tries, e.policy);
    let why = "the key store refused the PIN block";
    if (s >= 0) {
      const d = ErrorDetail.decode(out);
      if (d && d.message.length) why = "key store: " + d.message;
    } else why = "no session to the key store";
    return reply.fail(<u32>n, why);
  }
  let block: Uint8Array | null = null;
  let ksn = new Uint8Array(0); // a static SM4 key has no KSN
  if (format == PinFormat.PIN_FORMAT_UNIONPAY_SM4) {
    const r = EncryptPinBlockResponse.decode(out.subarray(0, n));
    if (r && r.encryptedPinBlock.length == 16) block = r.encryptedPinBlock;
  } else {
    const r = DukptEncryptPinBlockResponse.decode(out.subarray(0, n));
    if (r) { block = r.encryptedPinBlock; ksn = r.ksn; }
  }
  if (!block) { state.armBackoff(e.tries, e.policy); return reply.fail(ERROR_GENERIC, "the key store's answer does not decode"); }
  e.tries.failures = 0;
  state.armBackoff(e.tries, e.policy);
  const res = new EntryResponse();
  res.outcome = Outcome.OUTCOME_PIN_BLOCK;
  res.encryptedPinBlock = block;
  res.ksn = ksn;
  res.format = format;
  res.accessible = accessible;
  reply.ok(res.encode());
}

export function panDigits(pan: string): Uint8Array | null {
  if (pan.length < 12 || pan.length > 19) return null;
  const d = new Uint8Array(pan.length);
  for (let i = 0; i < pan.length; i++) {
    const c = pan.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    d[i] = <u8>(c - 48);
  }
  return d;
}

