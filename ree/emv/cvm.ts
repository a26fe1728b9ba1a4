// Cardholder verification for contactless (Book C-3 §5.7 / C-7 via CTQ; Book C-2 §7.5 and
// EMV Book 3 §10.5 via the CVM list). No offline PIN in contactless: the methods are no CVM,
// online PIN (the PIN pad TA), on-device CVM (CDCVM) and signature.
import type { Cvm } from './outcome.ts';
import type { TerminalConfig } from '../../common/emv/config.ts';

export type CvmDecision = { cvm: Cvm } | { fail: 'PIN_NOT_SUPPORTED' | 'CVM_NOT_SUPPORTED' };

/** K3/K7: what the card asked for in the CTQ (9F6C). */
export function cvmFromCtq(ctq: Uint8Array | undefined, cvmRequired: boolean, dev: TerminalConfig['cvm']): CvmDecision {
  if (ctq && ctq[1]! & 0x80) return dev.cdcvm ? { cvm: 'CDCVM' } : { fail: 'CVM_NOT_SUPPORTED' };
  if (ctq && ctq[0]! & 0x80) return dev.onlinePin ? { cvm: 'ONLINE_PIN' } : { fail: 'PIN_NOT_SUPPORTED' };
  if (ctq && ctq[0]! & 0x40) return dev.signature ? { cvm: 'SIGNATURE' } : { fail: 'CVM_NOT_SUPPORTED' };
  if (!cvmRequired) return { cvm: 'NO_CVM' };
  // CVM required but the card named none: the reader's own choice (C-3 Req 5.7.1.2).
  if (dev.onlinePin) return { cvm: 'ONLINE_PIN' };
  if (dev.signature) return { cvm: 'SIGNATURE' };
  return { fail: 'CVM_NOT_SUPPORTED' };
}

export interface CvmListResult { cvm?: Cvm; cvmResults: Uint8Array }

/** K2: walk the CVM list (8E) with the CVMs the reader offers for this amount. */
export function cvmFromList(list: Uint8Array | undefined, amount: number, cvmRequired: boolean, dev: TerminalConfig['cvm']): CvmListResult {
  const none = Uint8Array.of(0x3f, 0x00, 0x00); // no CVM performed
  // Below the CVM required limit the reader offers only "no CVM" (C-2: CVM Capability – No CVM
  // Required); at or above it only real CVMs (CVM Capability – CVM Required has no "No CVM").
  const supported = (code: number): Cvm | undefined => {
    if (!cvmRequired) return code === 0x1f ? 'NO_CVM' : undefined;
    if (code === 0x02 && dev.onlinePin) return 'ONLINE_PIN';
    if (code === 0x1e && dev.signature) return 'SIGNATURE';
    return undefined;
  };
  if (!list || list.length < 10 || (list.length - 8) % 2) return { cvmResults: none, ...(cvmRequired ? {} : { cvm: 'NO_CVM' as Cvm }) };
  const view = new DataView(list.buffer, list.byteOffset, list.byteLength);
  const x = view.getUint32(0);
  const y = view.getUint32(4);
  for (let i = 8; i + 2 <= list.length; i += 2) {
    const rule = list[i]!, cond = list[i + 1]!;
    const code = rule & 0x3f;
    const cvm = supported(code);
    const condOk = cond === 0x00 || (cond === 0x03 && cvm !== undefined)
      || (cond === 0x06 && amount < x) || (cond === 0x07 && amount > x) || (cond === 0x08 && amount < y) || (cond === 0x09 && amount > y);
    if (!condOk) continue;
    if (cvm) {
      const result = cvm === 'NO_CVM' ? 0x02 : 0x00; // 02 successful, 00 unknown (online PIN decided by issuer)
      return { cvm, cvmResults: Uint8Array.of(rule, cond, result) };
    }
    if (!(rule & 0x40)) break; // "fail cardholder verification if this CVM is unsuccessful"
  }
  if (!cvmRequired) return { cvm: 'NO_CVM', cvmResults: Uint8Array.of(0x1f, 0x00, 0x02) };
  return { cvmResults: Uint8Array.of(0x3f, 0x00, 0x01) };
}
