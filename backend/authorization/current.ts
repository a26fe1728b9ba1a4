// The journal's current answer for a payment (issue 17 §3): card authorizations and QR payments
// share the payments journal, and both answer resends and status queries through this one function.
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { PaymentRow } from '../store/repository.ts';
import { u64 } from '../util.ts';

const pay = trusttap.payment.v1;

/** What the journal answers now for a payment (a resend, transaction-status, reverse): the
 * journaled bytes while nothing changed them, DECISION_REVERSED once an approval was reversed.
 * The journaled approval is never replayed after its reversal: a device that lost the reversal's
 * answer and resends would otherwise tell its app (and the card, through the ARPC) "approved" for
 * money that was given back. A tombstone (reversed before it was authorized) stays the decline
 * it was journaled as: nothing was ever approved. */
export function currentAnswer(p: PaymentRow): trusttap.payment.v1.AuthorizeResponse {
  const journaled = pay.AuthorizeResponse.decode(p.response);
  if (p.decision !== 'approved' || p.reversedMs <= 0) return journaled;
  journaled.decision = pay.Decision.DECISION_REVERSED;
  journaled.reasonText = 'reversed';
  journaled.reversedMs = u64(p.reversedMs);
  journaled.arpc = new Uint8Array(0);
  journaled.issuerAuthenticationData = new Uint8Array(0);
  return journaled;
}
