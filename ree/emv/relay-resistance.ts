// Relay resistance protocol (EMV Contactless Book C-2 §3.10, EXCHANGE RELAY RESISTANCE DATA
// §5.3, state R1 as amended by SB 195): the reader sends fresh entropy, times the card's answer
// with a monotonic clock and compares the card's processing time with the limits the card
// declares, widened by the reader's grace periods. Too slow: up to two retries with fresh
// entropy, then "relay resistance time limits exceeded"; a card faster than physically
// possible is an error. Times are in units of 100 µs, as the card states them.
import { concat, toHex } from '../../common/hex.ts';
import { parseResponse, SW } from '../../common/emv/apdu.ts';
import type { RelayResistanceConfig } from '../../common/emv/config.ts';
import type { CardTransport } from '../nfc/transport.ts';
import { KernelError } from './read-records.ts';
import { setTvr } from './tvr.ts';

/** AIP (82) byte 2 b1: relay resistance protocol supported. */
export const AIP_RRP_SUPPORTED = 0x01;
/** RRP Counter (DF8307) limit: the first exchange and at most two retries. */
export const MAX_RRP_RETRIES = 2;
/** TVR (95) byte 5 (Book C-2 Annex C / Book 3 Annex C5). b2-b1: 00 not supported, 01 not performed, 10 performed. */
export const TVR_RRP = {
  THRESHOLD_EXCEEDED: [4, 0x08],
  TIME_LIMITS_EXCEEDED: [4, 0x04],
  PERFORMED: [4, 0x02],
  NOT_PERFORMED: [4, 0x01],
} as const satisfies Record<string, readonly [number, number]>;

/** A monotonic clock in microseconds (performance.now() on a phone; a simulated one in tests). */
export interface MonotonicClock { nowUs(): number }

export const systemClock: MonotonicClock = { nowUs: () => performance.now() * 1000 };

/** What the card answers to EXCHANGE RELAY RESISTANCE DATA (template 80, 10 bytes). */
export interface RrpCardData {
  /** DF8302 */
  deviceEntropy: Uint8Array;
  /** DF8303 Min Time For Processing Relay Resistance APDU */
  minTime: number;
  /** DF8304 Max Time For Processing Relay Resistance APDU */
  maxTime: number;
  /** DF8305 Device Estimated Transmission Time For Relay Resistance R-APDU */
  deviceTransmissionRapdu: number;
  /** the 10 bytes as sent (they go into the CDA signature check as they are) */
  raw: Uint8Array;
}

/** The RRP result the kernel reports (no card secrets: entropies and times only). */
export interface RelayResistanceResult {
  /** true when the exchange completed ("RRP performed" in the TVR) */
  performed: boolean;
  /** retries after the first exchange (DF8307) */
  retries: number;
  /** DF8306 of the last exchange, 100 µs units */
  measuredTime?: number;
  minTime?: number;
  maxTime?: number;
  timeLimitsExceeded: boolean;
  thresholdExceeded: boolean;
}

export const errdCommand = (entropy: Uint8Array): Uint8Array => concat(Uint8Array.of(0x80, 0xea, 0x00, 0x00, entropy.length), entropy, Uint8Array.of(0x00));

export function parseErrdResponse(data: Uint8Array): RrpCardData {
  if (data.length !== 12 || data[0] !== 0x80 || data[1] !== 0x0a) {
    throw new KernelError('RRP_FORMAT', `EXCHANGE RELAY RESISTANCE DATA answer is not template 80 with 10 bytes: ${toHex(data.subarray(0, 16))}`);
  }
  const u16 = (o: number) => (data[o]! << 8) | data[o + 1]!;
  return { deviceEntropy: data.slice(2, 6), minTime: u16(6), maxTime: u16(8), deviceTransmissionRapdu: u16(10), raw: data.slice(2) };
}

/** DF8306: the round trip less the expected transmission times, never below 0 (SB 195). */
export function measuredProcessingTime(elapsedUs: number, card: RrpCardData, cfg: RelayResistanceConfig): number {
  const units = Math.floor(elapsedUs / 100);
  return Math.max(0, units - cfg.expectedTransmissionCapdu - Math.min(card.deviceTransmissionRapdu, cfg.expectedTransmissionRapdu));
}

export type RrpStep =
  | { kind: 'too-fast' }
  | { kind: 'retry' }
  | { kind: 'done'; timeLimitsExceeded: boolean; thresholdExceeded: boolean };

/** Book C-2 R1 decisions for one measurement; `retries` is the RRP Counter before this step. */
export function assessRrp(measured: number, retries: number, card: RrpCardData, cfg: RelayResistanceConfig): RrpStep {
  // Faster than the card's own minimum (less the grace period): something answered for it.
  if (measured < Math.max(0, card.minTime - cfg.minGracePeriod)) return { kind: 'too-fast' };
  const tooSlow = measured > card.maxTime + cfg.maxGracePeriod;
  if (tooSlow && retries < MAX_RRP_RETRIES) return { kind: 'retry' };
  // The card's and the reader's expectations of the R-APDU transmission time disagree, or the
  // card took much longer than its minimum: the measurement is not accurate enough to trust.
  const devR = card.deviceTransmissionRapdu, termR = cfg.expectedTransmissionRapdu;
  const mismatch = Math.floor((devR * 100) / termR) < cfg.mismatchThresholdPercent
    || devR === 0 || Math.floor((termR * 100) / devR) < cfg.mismatchThresholdPercent;
  const inaccurate = Math.max(0, measured - card.minTime) > cfg.accuracyThreshold;
  return { kind: 'done', timeLimitsExceeded: tooSlow, thresholdExceeded: mismatch || inaccurate };
}

export interface RrpRun {
  result: RelayResistanceResult;
  /** the last Terminal Relay Resistance Entropy: it is also the unpredictable number (9F37) */
  entropy: Uint8Array;
  /** Terminal entropy || card's 10 bytes: what the card signs into CDA (Book C-2 Table 6.x) */
  signedData: Uint8Array;
  /** DF8301..DF8307 for the DOLs */
  tags: Map<string, Uint8Array>;
}

/** Runs the protocol; throws KernelError on a card error or an impossible answer. */
export async function runRelayResistance(transport: CardTransport, cfg: RelayResistanceConfig, clock: MonotonicClock,
  random: (n: number) => Uint8Array, tvr: Uint8Array): Promise<RrpRun> {
  for (let retries = 0; ; retries++) {
    const entropy = random(4);
    const t0 = clock.nowUs();
    const r = parseResponse(await transport.transceive(errdCommand(entropy)));
    const elapsed = clock.nowUs() - t0;
    if (r.sw !== SW.OK) throw new KernelError('RRP_SW', `EXCHANGE RELAY RESISTANCE DATA answered ${r.sw.toString(16).toUpperCase()}`);
    const card = parseErrdResponse(r.data);
    const measured = measuredProcessingTime(elapsed, card, cfg);
    const step = assessRrp(measured, retries, card, cfg);
    if (step.kind === 'too-fast') throw new KernelError('RRP_TOO_FAST', `relay resistance processing time ${measured} is below the card's minimum ${card.minTime} less the grace period`);
    if (step.kind === 'retry') continue;
    if (step.timeLimitsExceeded) setTvr(tvr, TVR_RRP.TIME_LIMITS_EXCEEDED);
    if (step.thresholdExceeded) setTvr(tvr, TVR_RRP.THRESHOLD_EXCEEDED);
    setTvr(tvr, TVR_RRP.PERFORMED);
    const be = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
    const tags = new Map<string, Uint8Array>([
      ['DF8301', entropy], ['DF8302', card.deviceEntropy], ['DF8303', be(card.minTime)], ['DF8304', be(card.maxTime)],
      ['DF8305', be(card.deviceTransmissionRapdu)], ['DF8306', be(measured)], ['DF8307', Uint8Array.of(retries)],
    ]);
    return {
      result: { performed: true, retries, measuredTime: measured, minTime: card.minTime, maxTime: card.maxTime, timeLimitsExceeded: step.timeLimitsExceeded, thresholdExceeded: step.thresholdExceeded },
      entropy, signedData: concat(entropy, card.raw), tags,
    };
  }
}
