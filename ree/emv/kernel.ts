// What Entry Point hands a kernel after final selection (Book B §3.4 kernel activation).
import { encodeTlv, type TlvEntry } from '../../common/tlv.ts';
import type { CardTransport } from '../nfc/transport.ts';
import type { TerminalConfig } from '../../common/emv/config.ts';
import type { AppFci } from './fci.ts';
import type { Indicators } from './preprocessing.ts';
import type { Outcome, ProgressEvent } from './outcome.ts';
import type { TransactionRequest } from './transaction.ts';
import type { CapkStore } from './oda/capk-store.ts';
import type { MonotonicClock } from './relay-resistance.ts';

export interface KernelInput {
  transport: CardTransport;
  config: TerminalConfig;
  indicators: Indicators;
  txn: TransactionRequest;
  aid: string;
  fci: AppFci;
  capks: CapkStore;
  /** 4-byte unpredictable number from the CSPRNG (injectable for tests) */
  un: Uint8Array;
  /** the same randomness source, for fresh relay resistance entropy on each exchange */
  random: (n: number) => Uint8Array;
  /** monotonic clock for relay resistance timing (injectable: tests share one with the card simulator) */
  clock: MonotonicClock;
  emit: (e: ProgressEvent) => void;
}

export type Kernel = (k: KernelInput) => Promise<Outcome>;

/** ICC data sent for online authorisation (field 55); never PAN, track 2 or names. */
/** The card's sensitive data for the issuer (PAN, track 2 equivalent, PAN sequence number,
 *  expiry) as BER-TLV: handed only to the txsign TA, which encrypts it under DUKPT. */
export const SENSITIVE_TAGS = ['5A', '57', '5F34', '5F24'];

export function sensitiveTlv(card: Map<string, Uint8Array>): Uint8Array {
  return encodeTlv(SENSITIVE_TAGS.filter((t) => card.has(t)).map((t) => [t, card.get(t)!] as TlvEntry));
}

export const ONLINE_TAGS = ['9F26', '9F27', '9F10', '9F37', '9F36', '95', '9A', '9C', '9F02', '5F2A', '82', '9F1A', '9F34', '9F33', '9F35', '84', '9F09', '9F03', '9F6E', '9F66', '9F6C', '5F34', '9F21'];
