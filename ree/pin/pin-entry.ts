// The PIN-entry call of the payment app (docs/pinpad.md): drives the pinpad TA through the TEE
// Client API only. The person types on the TEE's trusted UI, which the REE never sees; this code
// gets back only {encrypted PIN block, KSN, format} or a typed outcome. Format 'unionpay-sm4'
// encrypts the UnionPay SM4 PIN block under a static SM4 P0 key (keySetId names it; KSN empty).
//
//   const r = await enterPin(ctx, { pan, amountMinor: 1234, currency: 'EUR', keySetId: 'pin-aes',
//                                   attest: (nonce) => backend.attestForPin(nonce) });
//   if (r.kind === 'pin-block') send(r.encryptedPinBlock, r.ksn, r.format);
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { TeeContext, TeeSession } from '../tee-client/client.ts';

export const pp = trusttap.pinpad.v1;
export const PINPAD_UUID = '3f1c9a40-5a1e-4b7d-8c2e-9b0d7e1a2c30';

export type PinFormat = 'iso4' | 'iso0' | 'unionpay-sm4';
const FORMAT: Record<PinFormat, number> = {
  iso4: pp.PinFormat.PIN_FORMAT_ISO_4, iso0: pp.PinFormat.PIN_FORMAT_ISO_0, 'unionpay-sm4': pp.PinFormat.PIN_FORMAT_UNIONPAY_SM4,
};
const FORMAT_NAME = new Map<number, PinFormat>(Object.entries(FORMAT).map(([k, v]) => [v, k as PinFormat]));

/** A back-end verdict token as received (trusttap.attest.v1.SignedToken): forwarded unchanged. */
export interface SignedVerdict {
  token: Uint8Array;
  signature: Uint8Array;
}

export interface PinEntryRequest {
  /** PAN from the card read, digits only. */
  pan: string;
  /** Amount in minor units and its ISO 4217 code/exponent, drawn on the trusted UI. */
  amountMinor: number | bigint;
  currency: string;
  currencyExponent?: number;
  /** Default: the pinpad's policy (format 4 under AES DUKPT). */
  format?: PinFormat;
  /** The keystore key: a DUKPT key set (iso4, iso0) or a static SM4 P0 key (unionpay-sm4). */
  keySetId: string;
  /** The pre-PIN attestation: get a verdict token from the back end for this pinpad nonce. */
  attest: (nonce: Uint8Array) => Promise<SignedVerdict>;
  /** Ask for the accessible mode (audio, large keys); granted if the pinpad's policy allows. */
  accessible?: boolean;
  /** Aborting it cancels the entry (it ends with outcome 'aborted'). */
  signal?: AbortSignal;
}

export type TokenRefusal = 'not-provisioned' | 'forged' | 'wrong-device' | 'nonce' | 'stale' | 'verdict';

export type PinEntryOutcome =
  | { kind: 'pin-block'; encryptedPinBlock: Uint8Array; ksn: Uint8Array; format: PinFormat; accessible: boolean }
  | { kind: 'cancelled'; failures: number; retryAfterMs: number }
  | { kind: 'timeout'; failures: number; retryAfterMs: number }
  | { kind: 'pin-too-short'; failures: number; retryAfterMs: number }
  | { kind: 'aborted'; failures: number; retryAfterMs: number }
  | { kind: 'locked-out'; failures: number; retryAfterMs: number }
  | { kind: 'token-refused'; reason: TokenRefusal };

const REFUSAL: Record<number, TokenRefusal> = {
  [pp.TokenRefusal.TOKEN_REFUSAL_NOT_PROVISIONED]: 'not-provisioned',
  [pp.TokenRefusal.TOKEN_REFUSAL_FORGED]: 'forged',
  [pp.TokenRefusal.TOKEN_REFUSAL_WRONG_DEVICE]: 'wrong-device',
  [pp.TokenRefusal.TOKEN_REFUSAL_NONCE]: 'nonce',
  [pp.TokenRefusal.TOKEN_REFUSAL_STALE]: 'stale',
  [pp.TokenRefusal.TOKEN_REFUSAL_VERDICT]: 'verdict',
};

export type Policy = trusttap.pinpad.v1.IPolicy;

/** Typed client of the pinpad TA. */
export class PinpadClient {
  private constructor(readonly session: TeeSession) {}

  static async open(ctx: TeeContext): Promise<PinpadClient> {
    return new PinpadClient(await ctx.openSession('pinpad'));
  }

  /** Pins the back end's verdict-token key (EnrolResponse.token_public_key); once per device. */
  async provision(tokenPublicKey: Uint8Array): Promise<{ newlyProvisioned: boolean; deviceKeySha256: Uint8Array }> {
    const r = await this.session.call(pp.Command.COMMAND_PROVISION, pp.ProvisionRequest, { tokenPublicKey }, pp.ProvisionResponse);
    return { newlyProvisioned: r.newlyProvisioned, deviceKeySha256: r.deviceKeySha256 };
  }

  async nonce(): Promise<Uint8Array> {
    return (await this.session.call(pp.Command.COMMAND_GET_NONCE, pp.NonceRequest, {}, pp.NonceResponse)).nonce;
  }

  async status() {
    return this.session.call(pp.Command.COMMAND_GET_STATUS, pp.StatusRequest, {}, pp.StatusResponse);
  }

  async setPolicy(policy: Policy) {
    return (await this.session.call(pp.Command.COMMAND_SET_POLICY, pp.SetPolicyRequest, { policy }, pp.SetPolicyResponse)).policy!;
  }

  /** One PIN entry on this session: nonce → attestation → START (pending while the person types). */
  async enter(req: PinEntryRequest): Promise<PinEntryOutcome> {
    const nonce = await this.nonce();
    const verdict = await req.attest(nonce);
    const start = pp.StartEntryRequest.encode({
      pan: req.pan, amountMinor: Number(req.amountMinor), currency: req.currency, currencyExponent: req.currencyExponent ?? 2,
      format: req.format ? FORMAT[req.format] : pp.PinFormat.PIN_FORMAT_DEFAULT, keySetId: req.keySetId,
      verdictToken: verdict.token, verdictSignature: verdict.signature, accessible: !!req.accessible,
    } as unknown as trusttap.pinpad.v1.IStartEntryRequest).finish();
    const onAbort = () => { void this.session.requestCancellation().catch(() => undefined); };
    if (req.signal?.aborted) onAbort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    let r: trusttap.pinpad.v1.EntryResponse;
    try {
      r = pp.EntryResponse.decode(await this.session.invoke(pp.Command.COMMAND_START_ENTRY, start));
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
    }
    return outcomeOf(r);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

function outcomeOf(r: trusttap.pinpad.v1.EntryResponse): PinEntryOutcome {
  const O = pp.Outcome;
  const tally = { failures: r.failures, retryAfterMs: Number(r.retryAfterMs) };
  switch (r.outcome) {
    case O.OUTCOME_PIN_BLOCK:
      return { kind: 'pin-block', encryptedPinBlock: r.encryptedPinBlock, ksn: r.ksn, format: FORMAT_NAME.get(r.format) ?? 'iso4', accessible: r.accessible };
    case O.OUTCOME_CANCELLED: return { kind: 'cancelled', ...tally };
    case O.OUTCOME_TIMEOUT: return { kind: 'timeout', ...tally };
    case O.OUTCOME_PIN_TOO_SHORT: return { kind: 'pin-too-short', ...tally };
    case O.OUTCOME_ABORTED: return { kind: 'aborted', ...tally };
    case O.OUTCOME_LOCKED_OUT: return { kind: 'locked-out', ...tally };
    case O.OUTCOME_TOKEN_REFUSED: return { kind: 'token-refused', reason: REFUSAL[r.tokenRefusal] ?? 'forged' };
  }
  throw new Error(`pinpad answered an unknown outcome ${r.outcome}`);
}

/** One PIN entry in a session of its own (opened and closed here). TEE errors (bad PAN, unknown
 * key set, key store failure) throw TeeError; everything a person or the policy decides is a
 * typed outcome. */
export async function enterPin(ctx: TeeContext, req: PinEntryRequest): Promise<PinEntryOutcome> {
  const pinpad = await PinpadClient.open(ctx);
  try {
    return await pinpad.enter(req);
  } finally {
    await pinpad.close();
  }
}
