// The transaction a reader is asked to run, and the terminal data objects built from it and
// from the configuration (EMV Book 4 §6.5; Contactless Book A Table 5-3).
import { fromHex } from '../../common/hex.ts';
import type { CombinationConfig, ReaderLimits, TerminalConfig } from '../../common/emv/config.ts';

export interface TransactionRequest {
  /** amount authorised, minor units */
  amount: number;
  amountOther?: number;
  /** ISO 4217 numeric, 4 digits: '0156' */
  currency: string;
  /** YYMMDD */
  date: string;
  /** HHMMSS */
  time?: string;
  /** 9C: '00' purchase */
  type?: string;
}

export class TransactionError extends Error {
  readonly code = 'TRANSACTION_INVALID';
}

export function checkTransaction(t: TransactionRequest): void {
  if (!Number.isSafeInteger(t.amount) || t.amount < 0 || t.amount > 999_999_999_999) throw new TransactionError(`amount ${t.amount} is not 0..999999999999 minor units`);
  if (!/^\d{4}$/.test(t.currency)) throw new TransactionError(`currency '${t.currency}' is not a 4-digit ISO 4217 numeric code`);
  if (!/^\d{6}$/.test(t.date)) throw new TransactionError(`date '${t.date}' is not YYMMDD`);
  if (t.time !== undefined && !/^\d{6}$/.test(t.time)) throw new TransactionError(`time '${t.time}' is not HHMMSS`);
}

export const amountBcd = (n: number): Uint8Array => fromHex(String(n).padStart(12, '0'));

export function limitsFor(c: CombinationConfig, currency: string): ReaderLimits | undefined {
  return c.limits.find((l) => l.currency === currency);
}

/** Terminal-resident data objects for DOL building; TVR and TTQ are per transaction. */
export function terminalData(config: TerminalConfig, t: TransactionRequest, un: Uint8Array, ttq: Uint8Array | undefined, tvr: Uint8Array): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>([
    ['9F02', amountBcd(t.amount)],
    ['9F03', amountBcd(t.amountOther ?? 0)],
    ['9F1A', fromHex(config.terminalCountryCode)],
    ['5F2A', fromHex(t.currency)],
    ['9A', fromHex(t.date)],
    ['9C', fromHex(t.type ?? '00')],
    ['9F21', fromHex(t.time ?? '000000')],
    ['9F37', un],
    ['9F35', fromHex(config.terminalType)],
    ['9F33', fromHex(config.terminalCapabilities)],
    ['9F40', fromHex(config.additionalTerminalCapabilities)],
    ['95', tvr],
    ['9F34', fromHex('3F0000')],
  ]);
  if (ttq) m.set('9F66', ttq);
  if (config.merchantNameLocation) m.set('9F4E', new TextEncoder().encode(config.merchantNameLocation));
  return m;
}
