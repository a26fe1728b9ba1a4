// The phone's relay evidence (issue 14): the timed NFC transport reports each APDU round trip on
// the injected clock, the monitor counts RRP results and anomalies and hands them over once, and
// the health collector carries them with the HCE and accessibility signals.
import { describe, expect, it } from 'vitest';
import { RelayMonitor, DEFAULT_APDU_ANOMALY_US } from '../../ree/attestation/relay-monitor.ts';
import { HealthCollector, HealthCollectorError } from '../../ree/attestation/collector.ts';
import { TimedTransport } from '../../ree/nfc/timing.ts';
import { CardRemovedError, type CardTransport } from '../../ree/nfc/transport.ts';
import { SimulatedClock } from '../../sim/cards/index.ts';

const rrp = (o: { timeLimitsExceeded?: boolean; thresholdExceeded?: boolean; performed?: boolean } = {}) =>
  ({ performed: true, retries: 0, timeLimitsExceeded: false, thresholdExceeded: false, ...o });

describe('RelayMonitor', () => {
  it('an APDU round trip over the threshold is an anomaly, at it is not; the slowest is kept', () => {
    const m = new RelayMonitor(1_000);
    m.roundTrip(1_000);
    m.roundTrip(1_001);
    m.roundTrip(20.4);
    expect(m.collect()).toMatchObject({ apduTimingAnomalies: 1, slowestApduUs: 1_001 });
    expect(new RelayMonitor().apduAnomalyUs).toBe(DEFAULT_APDU_ANOMALY_US);
  });

  it('counts card reads and their relay resistance results, then starts again', () => {
    const m = new RelayMonitor();
    m.cardRead(undefined); // Kernel 3 / 7: no relay resistance
    m.cardRead(rrp({ performed: false }));
    m.cardRead(rrp());
    m.cardRead(rrp({ timeLimitsExceeded: true, thresholdExceeded: true }));
    m.cardRead(rrp({ thresholdExceeded: true }));
    expect(m.collect()).toEqual({ cardReads: 5, rrpPerformed: 3, rrpTimeLimitsExceeded: 1, rrpThresholdExceeded: 2, apduTimingAnomalies: 0, slowestApduUs: 0 });
    expect(m.collect()).toEqual({ cardReads: 0, rrpPerformed: 0, rrpTimeLimitsExceeded: 0, rrpThresholdExceeded: 0, apduTimingAnomalies: 0, slowestApduUs: 0 });
  });

  it('refuses a threshold that is not a positive number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new RelayMonitor(bad)).toThrow(RangeError);
  });
});

describe('TimedTransport', () => {
  it('times each exchange on the clock, also one that fails, and passes everything else through', async () => {
    const clock = new SimulatedClock(500);
    const seen: number[] = [];
    let fail = false;
    const inner: CardTransport = {
      transceive: async (c) => { clock.advance(c[0]! * 1000); if (fail) throw new CardRemovedError(); return Uint8Array.of(0x90, 0x00); },
      onCardEvent: () => () => undefined,
    };
    const t = new TimedTransport(inner, clock, (us) => seen.push(us));
    expect(await t.transceive(Uint8Array.of(3))).toEqual(Uint8Array.of(0x90, 0x00));
    fail = true;
    await expect(t.transceive(Uint8Array.of(7))).rejects.toBeInstanceOf(CardRemovedError);
    expect(seen).toEqual([3000, 7000]);
    expect(t.isPresent()).toBe(false);
    expect(new TimedTransport({ ...inner, isPresent: () => true } as CardTransport, clock, () => undefined).isPresent()).toBe(true);
  });
});

describe('HealthCollector: issue 14 signals', () => {
  it('HCE and accessibility signals, and the relay observations drained on each collect', () => {
    const m = new RelayMonitor();
    m.cardRead(rrp({ timeLimitsExceeded: true }));
    const c = new HealthCollector({ hcePaymentService: true, accessibilityPaymentAccess: false }, () => 1, m);
    const s = c.collect();
    expect([s.hcePaymentService, s.accessibilityPaymentAccess, s.relay?.rrpTimeLimitsExceeded, s.relay?.cardReads]).toEqual([true, false, 1, 1]);
    expect(c.collect().relay?.cardReads).toBe(0);
    expect(new HealthCollector({}).collect()).toMatchObject({ hcePaymentService: false, accessibilityPaymentAccess: false, relay: null });
  });
  it('a non-boolean HCE signal is refused', () => {
    expect(() => new HealthCollector({ hcePaymentService: 'yes' } as never).collect()).toThrow(HealthCollectorError);
    expect(() => new HealthCollector({ accessibilityPaymentAccess: 1 } as never).collect()).toThrow(HealthCollectorError);
  });
});
