// Outcomes and their UI requests (ree/emv/outcome.ts; Book A §7.1, Book B §3.5): every outcome
// kind with the status the reader shows, and the outcome object each path builds.
import { describe, expect, it } from 'vitest';
import { outcome, uiStatus, type OutcomeKind, type UiMessage, type UiStatus } from '../../ree/emv/outcome.ts';

describe('UI status of every outcome', () => {
  const table: Array<[OutcomeKind, UiMessage, UiStatus]> = [
    ['APPROVED', 'APPROVED', 'CARD_READ_SUCCESSFULLY'],
    ['DECLINED', 'NOT_AUTHORISED', 'CARD_READ_SUCCESSFULLY'],
    ['DECLINED', 'PIN_NOT_SUPPORTED', 'CARD_READ_SUCCESSFULLY'],
    ['DECLINED', 'TRY_ANOTHER_CARD', 'CARD_READ_SUCCESSFULLY'],
    ['ONLINE_REQUEST', 'AUTHORISING', 'CARD_READ_SUCCESSFULLY'],
    ['ONLINE_REQUEST', 'PLEASE_ENTER_PIN', 'CARD_READ_SUCCESSFULLY'],
    ['TRY_AGAIN', 'PRESENT_CARD_AGAIN', 'READY_TO_READ'],
    ['TRY_AGAIN', 'SEE_PHONE', 'NOT_READY'],
    ['SELECT_NEXT', 'PROCESSING', 'PROCESSING'],
    ['TRY_ANOTHER_INTERFACE', 'TRY_ANOTHER_CARD', 'PROCESSING_ERROR'],
    ['END_APPLICATION', 'ERROR', 'PROCESSING_ERROR'],
    ['END_APPLICATION', 'AMOUNT_OVER_LIMIT', 'PROCESSING_ERROR'],
    ['END_APPLICATION', 'CARD_NOT_SUPPORTED', 'PROCESSING_ERROR'],
    ['END_APPLICATION', 'TRY_ANOTHER_CARD', 'PROCESSING_ERROR'],
    // Kernel 2's See Phone is End Application with a restart (Book C-2): waiting for the cardholder.
    ['END_APPLICATION', 'SEE_PHONE', 'NOT_READY'],
  ];
  for (const [kind, message, status] of table) {
    it(`${kind} / ${message} → ${status}`, () => {
      expect(uiStatus(kind, message)).toBe(status);
      expect(outcome(kind, message)).toEqual({ kind, ui: { message, status } });
    });
  }
});

describe('outcome()', () => {
  it('carries the extra fields as given', () => {
    const o = outcome('ONLINE_REQUEST', 'PLEASE_ENTER_PIN', { reason: 'X', cvm: 'ONLINE_PIN', oda: 'PASSED', tvr: '0000000000' });
    expect(o).toEqual({ kind: 'ONLINE_REQUEST', ui: { message: 'PLEASE_ENTER_PIN', status: 'CARD_READ_SUCCESSFULLY' }, reason: 'X', cvm: 'ONLINE_PIN', oda: 'PASSED', tvr: '0000000000' });
  });
  it('has no fields but kind and UI without extras', () => {
    expect(Object.keys(outcome('DECLINED', 'NOT_AUTHORISED'))).toEqual(['kind', 'ui']);
  });
});
