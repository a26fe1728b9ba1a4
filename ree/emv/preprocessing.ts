// Entry Point pre-processing (EMV Contactless Book B §3.1), before the field is on: for each
// AID/kernel combination compare the amount with the reader limits of the currency and set the
// per-transaction TTQ bits.
import { fromHex } from '../../common/hex.ts';
import type { CombinationConfig } from '../../common/emv/config.ts';
import { limitsFor, type TransactionRequest } from './transaction.ts';

export interface Indicators {
  combination: CombinationConfig;
  contactlessNotAllowed: boolean;
  cvmRequiredLimitExceeded: boolean;
  floorLimitExceeded: boolean;
  /** TTQ as sent to the card (K3/K7), or undefined */
  ttq?: Uint8Array;
}

export function preProcess(combinations: CombinationConfig[], t: TransactionRequest): Indicators[] {
  return combinations.map((c) => {
    const l = limitsFor(c, t.currency);
    // No limits for this currency: the combination cannot take the transaction.
    const contactlessNotAllowed = !l || t.amount >= l.contactlessTransactionLimit;
    const cvmRequiredLimitExceeded = !!l && t.amount >= l.cvmRequiredLimit;
    const floorLimitExceeded = !!l && t.amount > l.floorLimit;
    let ttq: Uint8Array | undefined;
    if (c.ttq) {
      ttq = fromHex(c.ttq);
      ttq[1]! &= 0x3f; // reset 'online cryptogram required' and 'CVM required' (Book B 3.1.1.2)
      if (floorLimitExceeded || (l && l.floorLimit === 0)) ttq[1]! |= 0x80;
      if (cvmRequiredLimitExceeded) ttq[1]! |= 0x40;
    }
    const r: Indicators = { combination: c, contactlessNotAllowed, cvmRequiredLimitExceeded, floorLimitExceeded };
    if (ttq) r.ttq = ttq;
    return r;
  });
}
