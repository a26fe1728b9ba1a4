// Figures for `npm run bench` (issue 6): card-in-field time of each simulated card through the
// kernel and the in-process transport (no radio) — from SELECT PPSE to "remove card" — against
// the 30 ms goal (6 % of the ~500 ms EMV readers aim for), the whole transaction including ODA
// after removal, and BER-TLV parse throughput.
import type { Figure, Section } from './measure.ts';
import { MastercardCardSim, UnionPayCardSim, VisaCardSim, type SimulatedCard } from '../../sim/cards/index.ts';
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { decodeTlv, encodeTlv } from '../../common/tlv.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function tap(card: SimulatedCard, config: ReturnType<typeof loadSignedConfig>): Promise<{ inField: number; total: number }> {
  const t = new InProcessTransport(card);
  t.tap();
  const start = performance.now();
  let removed = start;
  await runEntryPoint(t, config, { amount: 12_00, currency: '0156', date: '251125' }, {
    onProgress: (e) => { if (e.type === 'REMOVE_CARD') removed = performance.now(); },
  });
  return { inField: removed - start, total: performance.now() - start };
}

export async function run(): Promise<Section> {
  const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
  const figures: Figure[] = [];
  for (const [name, make] of [['Visa qVSDC (K3)', () => new VisaCardSim()], ['Mastercard M/Chip (K2, CDA)', () => new MastercardCardSim()], ['UnionPay qPBOC (K7)', () => new UnionPayCardSim()]] as const) {
    const card = make();
    for (let i = 0; i < 20; i++) await tap(card, config); // warm up
    const runs: Array<{ inField: number; total: number }> = [];
    for (let i = 0; i < 100; i++) runs.push(await tap(card, config));
    const inField = median(runs.map((r) => r.inField));
    figures.push({ name: `${name}: card-in-field (PPSE → remove card), median`, value: inField, unit: 'ms', target: '≤ 30 ms', ok: inField <= 30 });
    figures.push({ name: `${name}: whole transaction incl. ODA after removal, median`, value: median(runs.map((r) => r.total)), unit: 'ms' });
  }
  // A card record of typical size: issuer certificate, exponent, remainder.
  const record = encodeTlv([['70', [['8F', 'F1'], ['90', 'AB'.repeat(128)], ['9F32', '03'], ['92', 'CD'.repeat(36)]]]]);
  const n = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) decodeTlv(record);
  const perSec = (n * record.length) / ((performance.now() - t0) / 1000) / 1e6;
  figures.push({ name: `BER-TLV decode of a ${record.length}-byte record`, value: perSec, unit: 'MB/s' });
  return {
    title: 'Contactless kernel (issue 6)',
    figures,
    notes: ['in-process transport: kernel and card cryptography only, no radio; card RSA keys 768/1024 bits (test PKI)'],
  };
}
