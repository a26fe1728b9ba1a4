// Outcomes and UI requests (EMV Contactless Book A §6.2, Book B §2): every transaction path
// ends in exactly one Outcome, with the message the reader should show.

import type { RelayResistanceResult } from './relay-resistance.ts';

export type OutcomeKind =
  | 'APPROVED' | 'DECLINED' | 'ONLINE_REQUEST' | 'TRY_AGAIN' | 'SELECT_NEXT'
  | 'TRY_ANOTHER_INTERFACE' | 'END_APPLICATION';

/** Book A message identifiers, by meaning. */
export type UiMessage =
  | 'APPROVED' | 'NOT_AUTHORISED' | 'PLEASE_ENTER_PIN' | 'PROCESSING' | 'REMOVE_CARD' | 'PRESENT_CARD'
  | 'PRESENT_CARD_AGAIN' | 'PRESENT_ONE_CARD_ONLY' | 'TRY_ANOTHER_CARD' | 'SEE_PHONE' | 'AUTHORISING'
  | 'AMOUNT_OVER_LIMIT' | 'CARD_NOT_SUPPORTED' | 'PIN_NOT_SUPPORTED' | 'ERROR';

/** Book A §7.1 (UI Request Data, Status). */
export type UiStatus = 'NOT_READY' | 'IDLE' | 'READY_TO_READ' | 'PROCESSING' | 'CARD_READ_SUCCESSFULLY' | 'PROCESSING_ERROR';

export interface UiRequest { message: UiMessage; status: UiStatus }

export type Cvm = 'NO_CVM' | 'ONLINE_PIN' | 'CDCVM' | 'SIGNATURE';

export type ProgressEvent =
  | { type: 'PRESENT_CARD' }
  | { type: 'CARD_READ' }
  | { type: 'REMOVE_CARD' }
  | { type: 'PROCESSING' };

export interface CardSummary {
  aid: string;
  label?: string;
  kernel: number;
  maskedPan?: string;
  /** YYMM */
  expiry?: string;
  panSequenceNumber?: string;
  /** Kernel 7: the block cipher of the card's application cryptogram, from the PBOC IAD's
   *  algorithm indicator — 'SM4' on a national-algorithm (SM) card, 'TDES' otherwise. */
  cryptogramAlgorithm?: 'SM4' | 'TDES';
}

export interface Outcome {
  kind: OutcomeKind;
  ui: UiRequest;
  /** machine-readable why, e.g. 'ODA_FAILED', 'CARD_BLOCKED', 'EMPTY_CANDIDATE_LIST' */
  reason?: string;
  cvm?: Cvm;
  card?: CardSummary;
  /** ODA result: undefined when not performed */
  oda?: 'PASSED' | 'FAILED';
  /** Kernel 2: the relay resistance protocol's result (performed, retries, times) */
  relayResistance?: RelayResistanceResult;
  /** Book A Outcome Parameter Set "Start": where a restart begins — 'B' after "See Phone" (the
   *  cardholder acts on the phone, then taps again) */
  restart?: 'B';
  /** Terminal Verification Results (95), hex */
  tvr?: string;
  /** online authorisation data (ICC data for field 55) by tag, hex. Holds no PAN or track 2. */
  onlineData?: Record<string, string>;
  /** PAN, track 2, PSN, expiry as BER-TLV, for the txsign TA to encrypt — never for the app:
   *  the payment facade hands it to the TEE and wipes it. */
  sensitive?: Uint8Array;
}

/** The status shown with an outcome's message (Book A §7.1, Book B §3.5): the card was read
 *  when the kernel reached a decision (approved, declined, online); "see phone" (a try again, or
 *  Kernel 2's end application with restart) waits for the cardholder (not ready) before the tap
 *  again, any other try again is ready to read at once;
 *  select next is still processing (Entry Point goes on); the rest end in an error. */
export function uiStatus(kind: OutcomeKind, message: UiMessage): UiStatus {
  // Kernel 2 ends "See Phone" as End Application with a restart (Book C-2): not ready either.
  if (message === 'SEE_PHONE') return 'NOT_READY';
  switch (kind) {
    case 'APPROVED': case 'DECLINED': case 'ONLINE_REQUEST': return 'CARD_READ_SUCCESSFULLY';
    case 'TRY_AGAIN': return 'READY_TO_READ';
    case 'SELECT_NEXT': return 'PROCESSING';
    default: return 'PROCESSING_ERROR';
  }
}

export function outcome(kind: OutcomeKind, message: UiMessage, extra: Partial<Outcome> = {}): Outcome {
  return { kind, ui: { message, status: uiStatus(kind, message) }, ...extra };
}
