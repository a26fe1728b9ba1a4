// SIMULATED ISSUER: its decision on one card authorization (EMV Book 2 §8.1 ARQC/ARPC, ISO 9564
// online PIN, ISO 8583 response codes). The one copy of the issuer's logic: the local route
// (backend/authorization/authorize.ts, route 'issuer-sim') and the simulated upstream issuer
// (backend/issuer-sim/upstream-server.ts, an acquirer's route 'upstream') both call it; they
// differ only in how the PIN block reaches the HSM (under the acquirer's DUKPT key or a zone PIN key).
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import type { Hsm, PinCheck } from '../hsm/hsm.ts';
import { IssuerSim, issuerKeyId } from './index.ts';
import { RESPONSE_CODE } from '../authorization/response-codes.ts';
import { bcdDigits } from '../authorization/tlv.ts';

const R = trusttap.payment.v1.DeclineReason;
type Reason = trusttap.payment.v1.DeclineReason;

export interface CardAuthorization {
  /** Whose issuer keys (HSM namespace) the route uses: the device's acquirer locally, the
   * upstream's own ('default') on the simulated upstream. */
  keysOf: string;
  pan: string;
  psn: string;
  /** YYMM from the chip (5F24 or track 2), '' if absent. */
  chipExpiry: string;
  /** The cryptogram's data (CDOL data) with 9F26 (the ARQC) and 9F36 (ATC). */
  icc: Map<string, Uint8Array>;
  type: 'purchase' | 'refund';
  amountMinor: number;
  currency: string;
  reference: string;
  nowMs: number;
  /** Present when the cardholder typed an online PIN: compares the block with a PIN verification
   * value inside the HSM. */
  pin?: (pvkId: string, pvv: Uint8Array) => Promise<PinCheck>;
}

export interface CardDecision {
  /** DECLINE_REASON_NONE = approved. */
  reason: Reason;
  text: string;
  /** The ARPC and the issuer authentication data (91) for the final response code; empty if the
   * ARQC was not reached or did not verify. */
  arpc: Uint8Array;
  iad: Uint8Array;
  /** The account's PAN hash ('' for an unknown card) and the balance movement (0 unless approved). */
  panHash: string;
  delta: number;
}

/** Steps 5 (the card known), 6 (online PIN), 7 (ARQC, ATC, ARPC) and 8 (status, expiry, funds)
 * of an authorization. Runs inside the caller's store transaction: the PIN try counter, the ATC
 * and the balance move with it. */
export async function authorizeCard(issuer: IssuerSim, hsm: Hsm, t: CardAuthorization): Promise<CardDecision> {
  const out: CardDecision = { reason: R.DECLINE_REASON_NONE, text: 'approved', arpc: new Uint8Array(0), iad: new Uint8Array(0), panHash: '', delta: 0 };
  const decline = (reason: Reason, text: string) => Object.assign(out, { reason, text });
  const acct = await issuer.account(t.pan);
  if (!acct) return decline(R.DECLINE_REASON_UNKNOWN_CARD, 'the issuer does not know this card');
  out.panHash = acct.panHash;

  // 6. Online PIN, verified inside the HSM against the issuer's PIN verification value.
  if (t.pin) {
    if (acct.pinTries >= acct.pinTryLimit) return decline(R.DECLINE_REASON_PIN_TRIES_EXCEEDED, 'PIN tries exceeded: the card\'s PIN is blocked');
    const pv = await issuer.pinVerification(t.keysOf, acct);
    if (!pv) return decline(R.DECLINE_REASON_UNKNOWN_CARD, 'the issuer holds no PIN verification value for this card under the route\'s keys');
    const v = await t.pin(pv.pvkId, pv.pvv);
    if (v === 'bad-block') return decline(R.DECLINE_REASON_INVALID_TRANSACTION, 'the PIN block does not decrypt to a format 4 PIN field for this card');
    const p = await issuer.pinResult(acct, v === 'match');
    if (p === 'exhausted') return decline(R.DECLINE_REASON_PIN_TRIES_EXCEEDED, 'incorrect PIN: tries exceeded, the card\'s PIN is blocked');
    if (p === 'wrong') return decline(R.DECLINE_REASON_INCORRECT_PIN, `incorrect PIN (${acct.pinTryLimit - acct.pinTries} tries left)`);
  }

  // 7. The ARQC, with the issuer master key in the HSM.
  const atc = t.icc.get('9F36');
  if (!atc || atc.length !== 2) return decline(R.DECLINE_REASON_INVALID_TRANSACTION, 'the cryptogram data holds no ATC (9F36)');
  const atcN = (atc[0] << 8) | atc[1];
  const arqc = { cvn: acct.cvn, pan: t.pan, psn: t.psn, iccData: t.icc, arc: arcOf('00'), csu: csuOf(true) };
  if (atcN <= acct.lastAtc) return decline(R.DECLINE_REASON_CRYPTOGRAM_FAILED, `application transaction counter ${atcN} replayed (last ${acct.lastAtc})`);
  // The card's issuer master key as the route holds it (its HSM namespace).
  const imkId = issuerKeyId(t.keysOf, acct.imkId);
  const v = await hsm.verifyArqc(imkId, arqc);
  if (!v.valid) return decline(R.DECLINE_REASON_CRYPTOGRAM_FAILED, 'the ARQC does not verify');
  const method2 = v.arpc!.length === 4;
  out.arpc = v.arpc!;
  out.iad = Buffer.concat([v.arpc!, method2 ? arqc.csu : arqc.arc]);
  const final = async (reason: Reason, text: string) => {
    const again = await hsm.verifyArqc(imkId, { ...arqc, arc: arcOf(RESPONSE_CODE[reason]), csu: csuOf(false) });
    if (again.valid) { out.arpc = again.arpc!; out.iad = Buffer.concat([again.arpc!, method2 ? csuOf(false) : arcOf(RESPONSE_CODE[reason])]); }
    return decline(reason, text);
  };

  // 8. The issuer's decision.
  const date = t.icc.get('9A') ? bcdDigits(t.icc.get('9A')!) : '';
  // The ATC is accepted (written with the decision's balance, one statement) whatever the decision.
  const d = await issuer.decide(acct, { type: t.type, amountMinor: t.amountMinor, currency: t.currency, date, chipExpiry: t.chipExpiry, reference: t.reference, nowMs: t.nowMs, lastAtc: atcN });
  if (!d.ok) {
    if (d.why === 'blocked') return await final(R.DECLINE_REASON_BLOCKED_CARD, 'the card is blocked');
    if (d.why === 'expired') return await final(R.DECLINE_REASON_EXPIRED_CARD, 'the card has expired');
    if (d.why === 'currency') return await final(R.DECLINE_REASON_INVALID_TRANSACTION, `the issuer cannot convert currency ${t.currency}`);
    return await final(R.DECLINE_REASON_INSUFFICIENT_FUNDS, 'insufficient funds');
  }
  out.delta = d.delta;
  return out;
}

const arcOf = (code: string) => Uint8Array.from(Buffer.from(code.padStart(2, '0').slice(0, 2), 'latin1'));
/** Card Status Update for ARPC method 2 (Visa CVN 18): byte 2 bit 8 = approved (simplified). */
const csuOf = (approved: boolean) => Uint8Array.of(0x00, approved ? 0x80 : 0x00, 0x00, 0x00);
