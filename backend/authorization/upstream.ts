// The 'upstream' authorization route (issue 16 §1): an acquirer whose route is 'upstream' sends
// each authorization, after every local check, to its issuer's HTTP endpoint as one JSON message
// (documented in docs/backend-api.md "Upstream authorization message") and journals the answer.
// The fields follow ISO 8583's authorization request (0100) by name: amount (4), currency (49),
// PAN (2), PSN (23), expiry (14), ICC data (55), PIN block (52) under a zone PIN key; the answer
// carries the response code (39) and the ARPC (issuer authentication data, EMV tag 91).
// No answer, an HTTP error, a timeout or an answer that does not parse is a decline
// (ISSUER_UNAVAILABLE, 91): the acquirer never approves what the upstream did not approve.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { RESPONSE_CODE } from './response-codes.ts';

const R = trusttap.payment.v1.DeclineReason;
type Reason = trusttap.payment.v1.DeclineReason;

/** The message's version; an answer of another version is not used. */
export const UPSTREAM_VERSION = 1;
/** How long the acquirer waits for the upstream by default (it holds the payment's journal transaction). */
export const UPSTREAM_TIMEOUT_MS = 5_000;
/** Decline reasons an upstream may answer with (the card's and the issuer's; the device checks are the acquirer's). */
const ISSUER_REASONS: readonly Reason[] = [
  R.DECLINE_REASON_NONE, R.DECLINE_REASON_INSUFFICIENT_FUNDS, R.DECLINE_REASON_INCORRECT_PIN, R.DECLINE_REASON_PIN_TRIES_EXCEEDED,
  R.DECLINE_REASON_EXPIRED_CARD, R.DECLINE_REASON_BLOCKED_CARD, R.DECLINE_REASON_CRYPTOGRAM_FAILED, R.DECLINE_REASON_UNKNOWN_CARD,
  R.DECLINE_REASON_INVALID_TRANSACTION,
];

export interface UpstreamRequest {
  version: number;
  acquirerId: string;
  merchantId: string;
  terminalId: string;
  clientTransactionId: string;
  /** The acquirer's transaction reference (its journal's). */
  reference: string;
  type: 'purchase' | 'refund';
  amountMinor: number;
  /** ISO 4217 numeric. */
  currency: string;
  maskedPan: string;
  card: {
    pan: string;
    psn: string;
    /** YYMM from the chip, '' if it gave none. */
    expiry: string;
    /** Hex of the BER-TLV the ARQC was computed over (the CDOL data) with 9F26 (the ARQC), 9F27, 9F36 (ATC), 9F10 (IAD). */
    iccData: string;
  };
  /** The online PIN: an ISO 9564 format 4 block (hex, 16 bytes) under the zone PIN key zpkId. */
  pin?: { format: 'ISO-9564-4'; block: string; zpkId: string };
  timeMs: number;
}

export interface UpstreamAnswer {
  version: number;
  approved: boolean;
  /** ISO 8583 field 39: '00' approved. */
  responseCode: string;
  /** A DeclineReason name (payment.proto), DECLINE_REASON_NONE when approved. */
  reason: string;
  reasonText: string;
  /** Hex: the ARPC and the issuer authentication data (91) for the card; '' if none. */
  arpc: string;
  issuerAuthenticationData: string;
}

export interface UpstreamOutcome {
  reason: Reason;
  text: string;
  arpc: Uint8Array;
  iad: Uint8Array;
}

/** POSTs the message; the outcome is the upstream's decision, or ISSUER_UNAVAILABLE. */
export async function sendUpstream(url: string, msg: UpstreamRequest, timeoutMs = UPSTREAM_TIMEOUT_MS): Promise<UpstreamOutcome> {
  let body: unknown;
  try {
    const r = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(msg),
      signal: AbortSignal.timeout(timeoutMs), redirect: 'error',
    });
    if (r.status !== 200) return unavailable(`the upstream issuer answered HTTP ${r.status}`);
    body = await r.json();
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `unreachable: ${(e as Error).message}`;
    return unavailable(`the upstream issuer: ${why}`);
  }
  return readAnswer(body);
}

/** The upstream's answer, checked: an approval needs approved = true, response code 00 and reason
 * NONE together; a decline a known issuer reason and its response code. Anything else is
 * ISSUER_UNAVAILABLE. */
export function readAnswer(body: unknown): UpstreamOutcome {
  const a = body as Partial<UpstreamAnswer> | null;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return unavailable('the upstream issuer\'s answer is not a JSON object');
  if (a.version !== UPSTREAM_VERSION) return unavailable(`the upstream issuer's answer is version ${String(a.version)}, not ${UPSTREAM_VERSION}`);
  const reason = typeof a.reason === 'string' ? (R as unknown as Record<string, number>)[a.reason] : undefined;
  if (reason === undefined || !ISSUER_REASONS.includes(reason)) return unavailable(`the upstream issuer's reason ${String(a.reason)} is not an issuer's decline reason`);
  if (typeof a.approved !== 'boolean' || a.approved !== (reason === R.DECLINE_REASON_NONE) || a.responseCode !== RESPONSE_CODE[reason]) {
    return unavailable('the upstream issuer\'s answer contradicts itself (approved, reason and response code disagree)');
  }
  const arpc = hexField(a.arpc), iad = hexField(a.issuerAuthenticationData);
  if (!arpc || !iad || arpc.length > 8 || iad.length > 16) return unavailable('the upstream issuer\'s ARPC or issuer authentication data is not hex of the right size');
  const text = typeof a.reasonText === 'string' ? a.reasonText.slice(0, 200) : '';
  return { reason, text: a.approved ? 'approved by the upstream issuer' : `the upstream issuer: ${text || RESPONSE_CODE[reason]}`, arpc, iad };
}

function hexField(v: unknown): Uint8Array | null {
  if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v)) return null;
  return Uint8Array.from(Buffer.from(v, 'hex'));
}

function unavailable(text: string): UpstreamOutcome {
  return { reason: R.DECLINE_REASON_ISSUER_UNAVAILABLE, text, arpc: new Uint8Array(0), iad: new Uint8Array(0) };
}
