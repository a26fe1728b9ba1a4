// The acquirer's contactless amount limits per currency (configurable: BackendOptions
// .paymentLimits). Same meaning as the reader's (EMV Contactless Book B 3.1.1; common/emv/config.ts
// ReaderLimits), so the back end enforces what the kernel should already have done:
//   amount >= transactionLimit   → OVER_LIMIT (contactless not allowed)
//   amount >= cvmRequiredLimit   → a CVM is required: online PIN or CDCVM, else PIN_REQUIRED
// Defaults match sim/test-terminal-config.ts: UnionPay CNY no-CVM limit 1000.00 (CVM from
// 1000.01), CNY transaction limit 5000.00; USD 100.00 / 1000.00; EUR 50.00 / 1000.00;
// GBP 100.01 / 1000.00; HKD 1000.01 / 10000.00; JPY 10001 / 100000 (no minor unit).
export interface AmountLimits {
  /** ISO 4217 numeric, 3 digits. */
  currency: string;
  transactionLimit: number;
  cvmRequiredLimit: number;
}

export const DEFAULT_LIMITS: readonly AmountLimits[] = [
  { currency: '156', transactionLimit: 5_000_00, cvmRequiredLimit: 1_000_01 },
  { currency: '840', transactionLimit: 1_000_00, cvmRequiredLimit: 100_00 },
  { currency: '978', transactionLimit: 1_000_00, cvmRequiredLimit: 50_00 },
  { currency: '826', transactionLimit: 1_000_00, cvmRequiredLimit: 100_01 },
  { currency: '344', transactionLimit: 10_000_00, cvmRequiredLimit: 1_000_01 },
  { currency: '392', transactionLimit: 100_000, cvmRequiredLimit: 10_001 },
];

export type LimitCheck = 'ok' | 'over-limit' | 'cvm-required' | 'no-limits';

export function checkLimits(limits: readonly AmountLimits[], currency: string, amountMinor: number, cvmPerformed: boolean): LimitCheck {
  const l = limits.find((x) => x.currency === currency);
  if (!l) return 'no-limits';
  if (amountMinor >= l.transactionLimit) return 'over-limit';
  if (amountMinor >= l.cvmRequiredLimit && !cvmPerformed) return 'cvm-required';
  return 'ok';
}
