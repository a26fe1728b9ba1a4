// Entry Point (EMV Contactless Book B): pre-processing, then with the card in the field the
// PPSE, combination selection by AID and kernel identifier, final selection, and kernel
// activation; Select Next goes back to the candidate list. Nothing here touches the network.
import { toHex } from '../../common/hex.ts';
import { parseResponse, selectAid, selectPpse, SW, ApduError } from '../../common/emv/apdu.ts';
import { parseAppFci, parsePpseFci, type DirectoryEntry } from './fci.ts';
import { TlvError } from '../../common/tlv.ts';
import { DEFAULT_KERNEL_BY_RID, type CombinationConfig, type TerminalConfig } from '../../common/emv/config.ts';
import { preProcess, type Indicators } from './preprocessing.ts';
import { checkTransaction, type TransactionRequest } from './transaction.ts';
import { outcome, type Outcome, type ProgressEvent } from './outcome.ts';
import { CapkStore } from './oda/capk-store.ts';
import { KernelError } from './read-records.ts';
import { Track2Error } from '../../common/emv/track2.ts';
import { kernel2 } from './kernel-2.ts';
import { kernel3, kernel7 } from './kernel-quick.ts';
import type { Kernel } from './kernel.ts';
import { systemClock, type MonotonicClock } from './relay-resistance.ts';
import { CardRemovedError, TransportError, type CardTransport } from '../nfc/transport.ts';

/** The reason of an outcome that ended on an unexpected exception inside the kernel. */
export const KERNEL_FAULT = 'KERNEL_FAULT';

const KERNELS: Record<number, Kernel> = { 2: kernel2, 3: kernel3, 7: kernel7 };

export interface EntryPointOptions {
  /** randomness for the unpredictable number (9F37); crypto.getRandomValues by default */
  random?: (n: number) => Uint8Array;
  onProgress?: (e: ProgressEvent) => void;
  /** monotonic clock for Kernel 2 relay resistance; performance.now() by default */
  clock?: MonotonicClock;
}

interface Candidate { entry: DirectoryEntry; indicators: Indicators; order: number }

/** Kernel a directory entry asks for: its 9F2A (international kernels: first byte, top bits 00),
 *  or the default kernel of its RID. */
export function requestedKernel(e: DirectoryEntry): number | undefined {
  if (e.kernelId) {
    const b = parseInt(e.kernelId.slice(0, 2), 16);
    return (b & 0xc0) === 0 ? b : undefined;
  }
  return DEFAULT_KERNEL_BY_RID[e.aid.slice(0, 10)];
}

function aidMatches(c: CombinationConfig, adf: string): boolean {
  return adf === c.aid || (c.partialSelection && adf.startsWith(c.aid));
}

/** Book B 3.3.2: candidates in priority order (1 first; none given last), stable otherwise. */
export function buildCandidates(entries: DirectoryEntry[], indicators: Indicators[]): Candidate[] {
  const out: Candidate[] = [];
  entries.forEach((entry, order) => {
    const kernel = requestedKernel(entry);
    const ind = indicators.find((i) => !i.contactlessNotAllowed && i.combination.kernelId === kernel && aidMatches(i.combination, entry.aid));
    if (ind) out.push({ entry, indicators: ind, order });
  });
  const rank = (c: Candidate) => (c.entry.priority ? c.entry.priority : 16);
  return out.sort((a, b) => rank(a) - rank(b) || a.order - b.order);
}

export async function runEntryPoint(transport: CardTransport, config: TerminalConfig, txn: TransactionRequest, opts: EntryPointOptions = {}): Promise<Outcome> {
  checkTransaction(txn);
  const emit = opts.onProgress ?? (() => {});
  const random = opts.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));

  // Start A: pre-processing, before the field is on.
  const indicators = preProcess(config.combinations, txn);
  if (indicators.every((i) => i.contactlessNotAllowed)) {
    // Book B would say Try Another Interface; a phone has none.
    return outcome('END_APPLICATION', 'AMOUNT_OVER_LIMIT', { reason: 'CONTACTLESS_NOT_ALLOWED' });
  }
  const capks = new CapkStore(config.capks);
  emit({ type: 'PRESENT_CARD' });

  try {
    // Start C: combination selection with the card in the field.
    const ppse = parseResponse(await transport.transceive(selectPpse()));
    if (ppse.sw !== SW.OK) return outcome('END_APPLICATION', 'TRY_ANOTHER_CARD', { reason: 'PPSE_NOT_FOUND' });
    const candidates = buildCandidates(parsePpseFci(ppse.data), indicators);
    let lastReason = 'EMPTY_CANDIDATE_LIST';
    while (candidates.length) {
      const cand = candidates.shift()!;
      const sel = parseResponse(await transport.transceive(selectAid(cand.entry.aid)));
      if (sel.sw !== SW.OK) {
        // Final selection failed (6283 = application blocked): next candidate (Book B 3.3.3.4).
        lastReason = sel.sw === SW.SELECTED_FILE_INVALIDATED ? 'CARD_BLOCKED' : `SELECT_SW_${toHex(Uint8Array.of(sel.sw >> 8, sel.sw & 0xff))}`;
        continue;
      }
      const fci = parseAppFci(sel.data);
      if (fci.dfName !== cand.entry.aid) { lastReason = 'FCI_AID_MISMATCH'; continue; }
      const kernel = KERNELS[cand.indicators.combination.kernelId]!;
      const o = await kernel({ transport, config, indicators: cand.indicators, txn, aid: cand.entry.aid, fci, capks, un: random(4), random, clock: opts.clock ?? systemClock, emit });
      if (o.kind === 'SELECT_NEXT') { lastReason = o.reason ?? 'SELECT_NEXT'; continue; }
      return o;
    }
    return outcome('END_APPLICATION', lastReason === 'EMPTY_CANDIDATE_LIST' ? 'CARD_NOT_SUPPORTED' : 'TRY_ANOTHER_CARD', { reason: lastReason });
  } catch (e) {
    // The card left the field: Book B Try Again, "present card again".
    if (e instanceof CardRemovedError) return outcome('TRY_AGAIN', 'PRESENT_CARD_AGAIN', { reason: 'CARD_REMOVED' });
    // The reader itself failed (or a replay ran out): no card data can be trusted.
    if (e instanceof TransportError) return outcome('END_APPLICATION', 'ERROR', { reason: `TRANSPORT_${e.code}` });
    // Malformed card data ends the transaction cleanly rather than crashing the app.
    if (e instanceof TlvError || e instanceof ApduError || e instanceof KernelError || e instanceof Track2Error) {
      return outcome('END_APPLICATION', 'ERROR', { reason: `CARD_DATA_${'code' in e ? String(e.code) : 'INVALID'}` });
    }
    // Anything else is a kernel defect, not a card's doing: still one outcome, never a throw
    // into the app and never an online request. The property test (test/emv/kernel-fuzz.test.ts)
    // fails on this reason, so a defect the fuzzer finds is fixed, not hidden.
    return outcome('END_APPLICATION', 'ERROR', { reason: KERNEL_FAULT });
  }
}
