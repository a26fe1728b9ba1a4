// ISO 8583 field 39 (response code) per TrustTap decline reason: one table for the local issuer,
// the upstream route and the upstream's answer, and QR payments (a used or expired code).
import { trusttap } from '../../proto/gen/ts/trusttap.js';

const R = trusttap.payment.v1.DeclineReason;

/** ISO 8583 field 39 per decline reason. */
export const RESPONSE_CODE: Record<number, string> = {
  [R.DECLINE_REASON_NONE]: '00', [R.DECLINE_REASON_INSUFFICIENT_FUNDS]: '51', [R.DECLINE_REASON_INCORRECT_PIN]: '55',
  [R.DECLINE_REASON_PIN_TRIES_EXCEEDED]: '75', [R.DECLINE_REASON_EXPIRED_CARD]: '54', [R.DECLINE_REASON_BLOCKED_CARD]: '62',
  [R.DECLINE_REASON_CRYPTOGRAM_FAILED]: '82', [R.DECLINE_REASON_OVER_LIMIT]: '61', [R.DECLINE_REASON_PIN_REQUIRED]: '65',
  [R.DECLINE_REASON_UNKNOWN_CARD]: '14', [R.DECLINE_REASON_DEVICE_NOT_ALLOWED]: '57', [R.DECLINE_REASON_INVALID_TRANSACTION]: '12',
  [R.DECLINE_REASON_RELAY_SUSPECTED]: '59', [R.DECLINE_REASON_ISSUER_UNAVAILABLE]: '91',
  [R.DECLINE_REASON_CODE_USED]: '94', [R.DECLINE_REASON_CODE_EXPIRED]: '54',
};
