// Relay evidence for the health report (issue 14): per card read, the Kernel 2 relay resistance
// result (Book C-2) and the APDU round trips the NFC transport timed. Counts since the previous
// report: collect() hands them to the evidence or heartbeat and starts again.
import type { RelayResistanceResult } from '../emv/relay-resistance.ts';
import type { trusttap } from '../../proto/gen/ts/trusttap.js';

export type RelayObservations = trusttap.attest.v1.RelayObservations.$Properties;

/** An APDU round trip above this is an anomaly: a card in the field answers well inside it, a
 *  relay over a network does not (100 ms by default). */
export const DEFAULT_APDU_ANOMALY_US = 100_000;

interface Counts { cardReads: number; rrpPerformed: number; rrpTimeLimitsExceeded: number; rrpThresholdExceeded: number; apduTimingAnomalies: number; slowestApduUs: number }

export class RelayMonitor {
  private o: Counts = RelayMonitor.empty();

  constructor(readonly apduAnomalyUs: number = DEFAULT_APDU_ANOMALY_US) {
    if (!(apduAnomalyUs > 0) || !Number.isFinite(apduAnomalyUs)) throw new RangeError(`APDU anomaly threshold must be a positive number of µs, not ${apduAnomalyUs}`);
  }

  private static empty(): Counts {
    return { cardReads: 0, rrpPerformed: 0, rrpTimeLimitsExceeded: 0, rrpThresholdExceeded: 0, apduTimingAnomalies: 0, slowestApduUs: 0 };
  }

  /** One APDU round trip, from TimedTransport. */
  roundTrip(us: number): void {
    if (us > this.apduAnomalyUs) this.o.apduTimingAnomalies++;
    this.o.slowestApduUs = Math.max(this.o.slowestApduUs, Math.min(0xffffffff, Math.round(us)));
  }

  /** One card read's kernel outcome (relay resistance only on Kernel 2). */
  cardRead(rrp: RelayResistanceResult | undefined): void {
    this.o.cardReads++;
    if (!rrp?.performed) return;
    this.o.rrpPerformed++;
    if (rrp.timeLimitsExceeded) this.o.rrpTimeLimitsExceeded++;
    if (rrp.thresholdExceeded) this.o.rrpThresholdExceeded++;
  }

  /** What was seen since the last call. */
  collect(): RelayObservations {
    const out = this.o;
    this.o = RelayMonitor.empty();
    return out;
  }
}
