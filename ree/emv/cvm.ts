// Cardholder verification for contactless (Book C-3 §5.7 / C-7 via CTQ; Book C-2 §7.5 and
// EMV Book 3 §10.5 with Annex C3 via the CVM list). No offline PIN in contactless: the methods
// are no CVM, online PIN (the PIN pad TA), on-device CVM (CDCVM) and signature.
import type { Cvm } from './outcome.ts';
import type { TerminalConfig } from '../../common/emv/config.ts';
import { toHex } from '../../common/hex.ts';

export type CvmDecision = { cvm: Cvm } | { fail: 'PIN_NOT_SUPPORTED' | 'CVM_NOT_SUPPORTED' };

/** CTQ (9F6C) bits, C-3 Annex / C-7: byte 1 b8 online PIN required, b7 signature required;
 *  byte 2 b8 consumer device CVM performed. */
const CTQ_ONLINE_PIN = 0x80, CTQ_SIGNATURE = 0x40, CTQ_CDCVM_PERFORMED = 0x80;

/** K3/K7: what the card asked for in the CTQ (9F6C). */
export function cvmFromCtq(ctq: Uint8Array | undefined, cvmRequired: boolean, dev: TerminalConfig['cvm']): CvmDecision {
  if (ctq && ctq[1]! & CTQ_CDCVM_PERFORMED) return dev.cdcvm ? { cvm: 'CDCVM' } : { fail: 'CVM_NOT_SUPPORTED' };
  if (ctq && ctq[0]! & CTQ_ONLINE_PIN) return dev.onlinePin ? { cvm: 'ONLINE_PIN' } : { fail: 'PIN_NOT_SUPPORTED' };
  if (ctq && ctq[0]! & CTQ_SIGNATURE) return dev.signature ? { cvm: 'SIGNATURE' } : { fail: 'CVM_NOT_SUPPORTED' };
  if (!cvmRequired) return { cvm: 'NO_CVM' };
  // CVM required but the card named none: the reader's own choice (C-3 Req 5.7.1.2).
  if (dev.onlinePin) return { cvm: 'ONLINE_PIN' };
  if (dev.signature) return { cvm: 'SIGNATURE' };
  return { fail: 'CVM_NOT_SUPPORTED' };
}

/** CVM codes (CV Rule byte 1 b6–b1, Book 3 Annex C3 Table 39). */
export const CVM_CODE = {
  FAIL: 0x00, PLAINTEXT_PIN_ICC: 0x01, ONLINE_PIN: 0x02, PLAINTEXT_PIN_ICC_SIGNATURE: 0x03,
  ENCIPHERED_PIN_ICC: 0x04, ENCIPHERED_PIN_ICC_SIGNATURE: 0x05, SIGNATURE: 0x1e, NO_CVM: 0x1f,
} as const;
/** CV Rule byte 1 b7: apply the succeeding CV Rule if this CVM is unsuccessful (0: fail
 *  cardholder verification). */
export const APPLY_NEXT_IF_UNSUCCESSFUL = 0x40;
const RECOGNISED = new Set<number>(Object.values(CVM_CODE));
const OFFLINE_PIN = new Set<number>([0x01, 0x03, 0x04, 0x05]);

/** CVM Results (9F34) byte 3. */
export const CVM_RESULT = { UNKNOWN: 0x00, FAILED: 0x01, SUCCESSFUL: 0x02 } as const;

export interface CvmListContext {
  /** amount authorised, minor units (compared with X and Y) */
  amount: number;
  /** transaction currency (5F2A), 4 digits: '0156' */
  currency: string;
  /** Application Currency Code (9F42) of the card: X and Y are in this currency */
  applicationCurrency: Uint8Array | undefined;
  /** transaction type (9C): '00' purchase, '01' cash, '09' purchase with cashback */
  transactionType: string;
  /** terminal type (9F35): second digit 4–6 is unattended */
  terminalType: string;
  /** amount at or above the reader's CVM required limit (Book B pre-processing) */
  cvmRequired: boolean;
  dev: TerminalConfig['cvm'];
}

export interface CvmListResult {
  /** the CVM to perform; undefined when the transaction needs one and none can be done */
  cvm?: Cvm;
  /** CVM Results (9F34): CVM code, condition code, result */
  cvmResults: Uint8Array;
  /** TVR byte 3 b8: cardholder verification was not successful */
  failed: boolean;
  /** TVR byte 3 b7: a CV Rule named a CVM this reader does not recognise */
  unrecognisedCvm: boolean;
  /** TVR byte 3 b5: a PIN CVM was asked for and the reader cannot take that PIN */
  pinPadNotAvailable: boolean;
  /** TVR byte 1 b6: the card has no CVM list (or one without CV Rules) */
  iccDataMissing: boolean;
}

/** Condition codes 00–09 (Book 3 Annex C3 Table 40); codes 0A–FF are RFU or payment-system
 *  specific, which this reader does not know: their rule is skipped. */
export function conditionSatisfied(cond: number, cvmSupported: boolean, x: number, y: number, c: CvmListContext): boolean {
  const unattended = /^.[456]$/.test(c.terminalType);
  const cash = c.transactionType === '01', cashback = c.transactionType === '09';
  // X and Y are in the application currency: they apply only when the transaction is in it.
  const inAppCurrency = c.applicationCurrency !== undefined && toHex(c.applicationCurrency) === c.currency;
  switch (cond) {
    case 0x00: return true;
    case 0x01: return unattended && cash;
    case 0x02: return !cash && !cashback;
    case 0x03: return cvmSupported;
    case 0x04: return !unattended && cash;
    case 0x05: return cashback;
    case 0x06: return inAppCurrency && c.amount < x;
    case 0x07: return inAppCurrency && c.amount > x;
    case 0x08: return inAppCurrency && c.amount < y;
    case 0x09: return inAppCurrency && c.amount > y;
    default: return false;
  }
}

/** K2: walk the CVM list (8E) with the CVMs the reader offers for this amount (Book 3 §10.5). */
export function cvmFromList(list: Uint8Array | undefined, c: CvmListContext): CvmListResult {
  const base = { failed: false, unrecognisedCvm: false, pinPadNotAvailable: false, iccDataMissing: false };
  // Below the CVM required limit the reader offers only "no CVM" (C-2: CVM Capability – No CVM
  // Required); at or above it only real CVMs (CVM Capability – CVM Required has no "No CVM").
  const supported = (code: number): Cvm | undefined => {
    if (!c.cvmRequired) return code === CVM_CODE.NO_CVM ? 'NO_CVM' : undefined;
    if (code === CVM_CODE.ONLINE_PIN && c.dev.onlinePin) return 'ONLINE_PIN';
    if (code === CVM_CODE.SIGNATURE && c.dev.signature) return 'SIGNATURE';
    return undefined;
  };
  // Verification failed: below the CVM required limit the transaction goes on without a CVM
  // and with the TVR bit set (terminal action analysis and the issuer decide); at or above it
  // there is no CVM to do.
  const failure = (cvmResults: Uint8Array, flags: Partial<typeof base>): CvmListResult =>
    ({ ...base, ...flags, failed: true, cvmResults, ...(c.cvmRequired ? {} : { cvm: 'NO_CVM' as Cvm }) });

  if (!list || list.length < 10 || (list.length - 8) % 2) {
    // No CVM list, or none with a CV Rule: "no CVM performed" (3F 00 00) and ICC data missing.
    // At or above the limit this reader's policy is stricter than no CVM: the card must name one.
    if (!c.cvmRequired) return { ...base, iccDataMissing: true, cvm: 'NO_CVM', cvmResults: Uint8Array.of(0x3f, 0x00, 0x00) };
    return { ...base, iccDataMissing: true, failed: true, cvmResults: Uint8Array.of(0x3f, 0x00, 0x01) };
  }
  const view = new DataView(list.buffer, list.byteOffset, list.byteLength);
  const x = view.getUint32(0);
  const y = view.getUint32(4);
  let unrecognisedCvm = false, pinPadNotAvailable = false;
  for (let i = 8; i < list.length; i += 2) {
    const rule = list[i]!, cond = list[i + 1]!;
    const code = rule & 0x3f;
    const cvm = supported(code);
    if (!conditionSatisfied(cond, cvm !== undefined, x, y, c)) continue;
    if (cvm) {
      // 02 successful for no CVM; 00 unknown for online PIN (the issuer decides) and signature.
      return { ...base, unrecognisedCvm, pinPadNotAvailable, cvm, cvmResults: Uint8Array.of(rule, cond, cvm === 'NO_CVM' ? CVM_RESULT.SUCCESSFUL : CVM_RESULT.UNKNOWN) };
    }
    // This CVM is unsuccessful: not recognised, an offline PIN (none in contactless), "Fail CVM
    // processing", or one the reader does not offer for this amount.
    if (!RECOGNISED.has(code)) unrecognisedCvm = true;
    else if (OFFLINE_PIN.has(code) || (code === CVM_CODE.ONLINE_PIN && !c.dev.onlinePin)) pinPadNotAvailable = true;
    if (!(rule & APPLY_NEXT_IF_UNSUCCESSFUL)) return failure(Uint8Array.of(rule, cond, CVM_RESULT.FAILED), { unrecognisedCvm, pinPadNotAvailable });
  }
  // The end of the list without a successful CVM (Book 3 §10.5: 3F 00 01).
  return failure(Uint8Array.of(0x3f, 0x00, CVM_RESULT.FAILED), { unrecognisedCvm, pinPadNotAvailable });
}
