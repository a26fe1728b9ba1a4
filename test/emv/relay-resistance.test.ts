// Kernel 2 relay resistance (Book C-2 §3.10): an un-relayed card passes, a relayed one (the
// simulator adds delay to the shared simulated clock) is retried twice and flagged, the CDA
// signature covers the exchange, and the R1 decision table is pinned at its boundaries.
import { describe, expect, it } from 'vitest';
import { MastercardCardSim, SimulatedClock, RRP_CARD_TIMING, TEST_ISSUER_MASTER_KEY_AC } from '../../sim/cards/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { loadSignedConfig, signConfig, ConfigError } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey, testTerminalConfig } from '../../sim/test-terminal-config.ts';
import { assessRrp, measuredProcessingTime, parseErrdResponse, runRelayResistance, systemClock, type RrpCardData } from '../../ree/emv/relay-resistance.ts';
import { KernelError } from '../../ree/emv/read-records.ts';
import { verifyArqc } from '../../backend/issuer/issuer-host.ts';
import { fromHex, toHex } from '../../common/hex.ts';
import type { RelayResistanceConfig, TerminalConfig } from '../../common/emv/config.ts';
import type { CardTransport } from '../../ree/nfc/transport.ts';

const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
const RR = config.combinations.find((c) => c.kernelId === 2)!.relayResistance!;

/** Deterministic, distinct entropy per call: 01010101, 02020202, ... */
function counterRandom(): (n: number) => Uint8Array {
  let i = 0;
  return (n) => new Uint8Array(n).fill(++i);
}

interface Run { o: Awaited<ReturnType<typeof runEntryPoint>>; errd: string[] }

async function tap(opts: { addedDelayUs?: number; rrp?: boolean; cfg?: TerminalConfig; tamper?: (cmd: Uint8Array, rsp: Uint8Array) => Uint8Array } = {}): Promise<Run> {
  const clock = new SimulatedClock(1_000_000);
  const card = new MastercardCardSim(opts.rrp === false ? {} : { relayResistance: { clock, addedDelayUs: opts.addedDelayUs ?? 0 } });
  const t = new InProcessTransport(card);
  t.tap();
  const errd: string[] = [];
  const transport: CardTransport = {
    transceive: async (c) => {
      const r = await t.transceive(c);
      if (c[1] === 0xea) errd.push(toHex(c.subarray(5, 9)));
      return opts.tamper ? opts.tamper(c, r) : r;
    },
    onCardEvent: (l) => t.onCardEvent(l),
  };
  const o = await runEntryPoint(transport, opts.cfg ?? config, { amount: 10_00, currency: '0156', date: '251125', time: '120000' }, { random: counterRandom(), clock });
  return { o, errd };
}

const tvr5 = (o: Run['o']) => fromHex(o.tvr!)[4]!;

describe('Kernel 2 relay resistance against the Mastercard simulator', () => {
  it('an un-relayed card passes: one exchange, "RRP performed", CDA over the exchange passes, the ARQC verifies', async () => {
    const { o, errd } = await tap();
    expect([o.kind, o.oda]).toEqual(['ONLINE_REQUEST', 'PASSED']);
    expect(errd).toEqual(['02020202']); // the entropy after the first UN (01010101)
    expect(tvr5(o)).toBe(0x02);
    // measured = (18 + 15 + 24) - 18 - min(24, 24) = 15
    expect(o.relayResistance).toEqual({ performed: true, retries: 0, measuredTime: RRP_CARD_TIMING.processing, minTime: 10, maxTime: 30, timeLimitsExceeded: false, thresholdExceeded: false });
    // The last terminal entropy is the unpredictable number the card and the issuer use.
    expect(o.onlineData!['9F37']).toBe('02020202');
    expect(o.onlineData!['95']!.slice(8)).toBe('02');
    const icc = new Map(Object.entries(o.onlineData!).map(([k, v]) => [k, fromHex(v)]));
    expect(verifyArqc({ cvn: 'mastercard-16', issuerMasterKeyAc: TEST_ISSUER_MASTER_KEY_AC, pan: '5413330089010434', psn: '01', iccData: icc }, fromHex('3030')).valid).toBe(true);
  });

  it('a relayed card (10 ms added) is retried twice with fresh entropy, then "time limits exceeded"', async () => {
    const { o, errd } = await tap({ addedDelayUs: 10_000 });
    expect(errd).toEqual(['02020202', '03030303', '04040404']);
    expect([o.kind, o.oda]).toEqual(['ONLINE_REQUEST', 'PASSED']);
    expect(tvr5(o)).toBe(0x04 | 0x02);
    expect(o.relayResistance).toMatchObject({ performed: true, retries: 2, measuredTime: 115, timeLimitsExceeded: true, thresholdExceeded: false });
    expect(o.onlineData!['9F37']).toBe('04040404');
    // The issuer sees the flag in the TVR the cryptogram was made over.
    expect(fromHex(o.onlineData!['95']!)[4]! & 0x04).toBe(0x04);
  });

  it('the boundary: max time + max grace period (30 + 50 = 80) passes, one unit more is flagged', async () => {
    const at = await tap({ addedDelayUs: 6_500 }); // 57 + 65 - 42 = 80
    expect([at.o.relayResistance?.measuredTime, at.o.relayResistance?.retries, tvr5(at.o)]).toEqual([80, 0, 0x02]);
    const over = await tap({ addedDelayUs: 6_600 }); // 81
    expect([over.o.relayResistance?.measuredTime, over.o.relayResistance?.retries, tvr5(over.o)]).toEqual([81, 2, 0x06]);
  });

  it('an inaccurate measurement (accuracy threshold below measured - min) sets "threshold exceeded" too', async () => {
    const cfg = testTerminalConfig();
    cfg.combinations.find((c) => c.kernelId === 2)!.relayResistance = { ...RR, accuracyThreshold: 4 }; // 15 - 10 = 5 > 4
    const { o } = await tap({ cfg });
    expect([tvr5(o), o.relayResistance?.thresholdExceeded, o.relayResistance?.timeLimitsExceeded]).toEqual([0x08 | 0x02, true, false]);
  });

  it('the data objects it leaves for the DOLs: DF8301..DF8307', async () => {
    const clock = new SimulatedClock();
    const t = new InProcessTransport(new MastercardCardSim({ relayResistance: { clock, addedDelayUs: 0 }, random: (n) => new Uint8Array(n).fill(0xd1) }));
    t.tap();
    await t.transceive(fromHex('00A4040007A000000004101000'));
    const tvr = new Uint8Array(5);
    const run = await runRelayResistance(t, RR, clock, counterRandom(), tvr);
    expect(Object.fromEntries([...run.tags].map(([k, v]) => [k, toHex(v)]))).toEqual({
      DF8301: '01010101', DF8302: 'D1D1D1D1', DF8303: '000A', DF8304: '001E', DF8305: '0018', DF8306: '000F', DF8307: '00',
    });
    expect([toHex(run.entropy), toHex(run.signedData), toHex(tvr)]).toEqual(['01010101', '01010101D1D1D1D1000A001E0018', '0000000002']);
  });

  it('the default clock is performance.now() in microseconds', () => {
    const before = performance.now() * 1000;
    const now = systemClock.nowUs();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(performance.now() * 1000);
  });

  it('a card without RRP on an RRP reader: no exchange, "RRP not performed"; a reader without RRP: no exchange, "not supported"', async () => {
    const noCard = await tap({ rrp: false });
    expect([noCard.errd, tvr5(noCard.o), noCard.o.relayResistance?.performed]).toEqual([[], 0x01, false]);
    const plain = testTerminalConfig();
    for (const c of plain.combinations) delete c.relayResistance;
    const noReader = await tap({ cfg: plain });
    expect([noReader.errd, tvr5(noReader.o), noReader.o.oda]).toEqual([[], 0x00, 'PASSED']);
  });

  it('relay resistance data changed on the way (device entropy) fails CDA: declined', async () => {
    const { o } = await tap({ tamper: (c, r) => { if (c[1] !== 0xea) return r; const x = r.slice(); x[2]! ^= 0xff; return x; } });
    expect([o.kind, o.reason, o.oda]).toEqual(['DECLINED', 'ODA_FAILED_CDA_RRP_MISMATCH', 'FAILED']);
  });

  it('a card answering faster than its own minimum less the grace period ends the transaction', async () => {
    // min time raised to 0x0100 (25.6 ms) in transit: a 1.5 ms answer is impossible for that card.
    const { o } = await tap({ tamper: (c, r) => { if (c[1] !== 0xea) return r; const x = r.slice(); x[6] = 0x01; x[7] = 0x00; return x; } });
    expect([o.kind, o.reason]).toEqual(['END_APPLICATION', 'CARD_DATA_RRP_TOO_FAST']);
  });

  it('an error status or a malformed answer to EXCHANGE RELAY RESISTANCE DATA ends the transaction', async () => {
    const sw = await tap({ tamper: (c, r) => (c[1] === 0xea ? Uint8Array.of(0x69, 0x85) : r) });
    expect([sw.o.kind, sw.o.reason]).toEqual(['END_APPLICATION', 'CARD_DATA_RRP_SW']);
    const short = await tap({ tamper: (c, r) => (c[1] === 0xea ? Uint8Array.of(0x80, 0x02, 0, 0, 0x90, 0x00) : r) });
    expect([short.o.kind, short.o.reason]).toEqual(['END_APPLICATION', 'CARD_DATA_RRP_FORMAT']);
  });
});

describe('relay resistance decisions (Book C-2 R1, SB 195)', () => {
  const cfg: RelayResistanceConfig = { minGracePeriod: 20, maxGracePeriod: 50, expectedTransmissionCapdu: 18, expectedTransmissionRapdu: 24, accuracyThreshold: 300, mismatchThresholdPercent: 50 };
  const card = (o: Partial<RrpCardData> = {}): RrpCardData => ({ deviceEntropy: new Uint8Array(4), minTime: 30, maxTime: 60, deviceTransmissionRapdu: 24, raw: new Uint8Array(10), ...o });

  it.each([
    // [measured, retries, card, config overrides, expected]
    ['below min - grace', 9, 0, {}, {}, { kind: 'too-fast' }],
    ['at min - grace', 10, 0, {}, {}, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: false }],
    ['min below grace: 0 is possible', 0, 0, { minTime: 5 }, {}, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: false }],
    ['at max + grace', 110, 0, {}, {}, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: false }],
    ['over max + grace, first try', 111, 0, {}, {}, { kind: 'retry' }],
    ['over max + grace, second retry left', 111, 1, {}, {}, { kind: 'retry' }],
    ['over max + grace, retries used', 111, 2, {}, {}, { kind: 'done', timeLimitsExceeded: true, thresholdExceeded: false }],
    ['accuracy: measured - min at threshold', 110, 0, {}, { accuracyThreshold: 80 }, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: false }],
    ['accuracy: one over', 110, 0, {}, { accuracyThreshold: 79 }, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: true }],
    ['mismatch: card R-APDU 50 % of the reader\'s', 40, 0, { deviceTransmissionRapdu: 12 }, {}, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: false }],
    ['mismatch: card R-APDU under 50 %', 40, 0, { deviceTransmissionRapdu: 11 }, {}, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: true }],
    ['mismatch: reader R-APDU 50 % of the card\'s', 40, 0, { deviceTransmissionRapdu: 48 }, {}, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: false }],
    ['mismatch: reader R-APDU under 50 %', 40, 0, { deviceTransmissionRapdu: 49 }, {}, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: true }],
    ['mismatch: card says 0', 40, 0, { deviceTransmissionRapdu: 0 }, { mismatchThresholdPercent: 0 }, { kind: 'done', timeLimitsExceeded: false, thresholdExceeded: true }],
    ['both flags', 500, 2, {}, {}, { kind: 'done', timeLimitsExceeded: true, thresholdExceeded: true }],
  ] as const)('%s', (_name, measured, retries, c, over, expected) => {
    expect(assessRrp(measured, retries, card(c), { ...cfg, ...over })).toEqual(expected);
  });

  it('measured time: round trip in 100 µs units less the C-APDU time and the smaller R-APDU estimate, never below 0', () => {
    expect(measuredProcessingTime(5_799, card(), cfg)).toBe(57 - 18 - 24);
    expect(measuredProcessingTime(5_800, card({ deviceTransmissionRapdu: 10 }), cfg)).toBe(58 - 18 - 10);
    expect(measuredProcessingTime(5_800, card({ deviceTransmissionRapdu: 99 }), cfg)).toBe(58 - 18 - 24);
    expect(measuredProcessingTime(100, card(), cfg)).toBe(0);
  });

  it('parses the card\'s answer and refuses any other shape', () => {
    const d = parseErrdResponse(fromHex('800A' + 'A1B2C3D4' + '000A' + '001E' + '0018'));
    expect([toHex(d.deviceEntropy), d.minTime, d.maxTime, d.deviceTransmissionRapdu, toHex(d.raw)]).toEqual(['A1B2C3D4', 10, 30, 24, 'A1B2C3D4000A001E0018']);
    for (const bad of ['770A' + '00'.repeat(10), '800B' + '00'.repeat(10), '800A' + '00'.repeat(9), '']) {
      expect(() => parseErrdResponse(fromHex(bad))).toThrow(KernelError);
    }
  });

  it('the signed configuration refuses relay resistance parameters out of range', () => {
    const key = testConfigSigningKey();
    for (const bad of [{ maxGracePeriod: 0x10000 }, { minGracePeriod: -1 }, { accuracyThreshold: 1.5 }, { expectedTransmissionRapdu: 0 }, { mismatchThresholdPercent: 256 }]) {
      const c = testTerminalConfig();
      const k2 = c.combinations.find((x) => x.kernelId === 2)!;
      k2.relayResistance = { ...RR, ...bad };
      expect(() => loadSignedConfig(signConfig(c, key.privateKey), key.publicKey)).toThrow(ConfigError);
    }
  });
});
