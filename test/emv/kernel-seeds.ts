// The kernel fuzzers' one generator base (issue 17 §5, §8): real taps of each simulated card
// recorded as seeds, what every outcome must satisfy, and the run order. Used by
// test/emv/kernel-fuzz.test.ts and by `npm run fuzz -- --target kernel` (test/fuzz/).
import { InProcessTransport } from '../../ree/nfc/in-process.ts';
import { RecordingTransport, type Exchange } from '../../ree/nfc/replay.ts';
import { runEntryPoint, KERNEL_FAULT } from '../../ree/emv/entry-point.ts';
import { checkCardData } from '../../ree/emv/card-data.ts';
import { loadSignedConfig } from '../../common/emv/signed-config.ts';
import { signedTestTerminalConfig, testConfigSigningKey } from '../../sim/test-terminal-config.ts';
import { fromHex } from '../../common/hex.ts';
import { MastercardCardSim, UnionPayCardSim, UnionPaySmCardSim, VisaCardSim, type SimulatedCard } from '../../sim/cards/index.ts';
import type { Outcome } from '../../ree/emv/outcome.ts';
import type { TransactionRequest } from '../../ree/emv/transaction.ts';

export const config = loadSignedConfig(signedTestTerminalConfig(), testConfigSigningKey().publicKey);
const UN = fromHex('5A5A5A5A');
export const random = (n: number) => (n === 4 ? UN.slice() : new Uint8Array(n).fill(0x5a));
const KINDS = new Set(['APPROVED', 'DECLINED', 'ONLINE_REQUEST', 'TRY_AGAIN', 'SELECT_NEXT', 'TRY_ANOTHER_INTERFACE', 'END_APPLICATION']);

export interface Seed { name: string; txn: TransactionRequest; exchanges: Exchange[]; outcome: Outcome }

/** A real tap of each simulated card, below and above the CVM limit, recorded on `date`. */
export async function recordSeeds(date = '251125', time = '120000'): Promise<Seed[]> {
  const cards: Array<[string, () => SimulatedCard]> = [
    ['visa', () => new VisaCardSim()], ['mastercard', () => new MastercardCardSim()],
    ['unionpay', () => new UnionPayCardSim()], ['unionpay-sm', () => new UnionPaySmCardSim()],
  ];
  const out: Seed[] = [];
  for (const [name, make] of cards) {
    for (const amount of [25_00, 1288_00]) {
      const txn: TransactionRequest = { amount, currency: '0156', date, time };
      const inner = new InProcessTransport(make());
      inner.tap();
      const rec = new RecordingTransport(inner);
      const outcome = await runEntryPoint(rec, config, txn, { random });
      out.push({ name: `${name} ${amount}`, txn, exchanges: rec.exchanges, outcome });
    }
  }
  return out;
}

/** What every outcome must satisfy; returns why not, or null. */
export function violation(o: unknown): string | null {
  if (!o || typeof o !== 'object') return 'not an outcome object';
  const oc = o as Outcome;
  if (!KINDS.has(oc.kind)) return `unknown kind ${String(oc.kind)}`;
  if (oc.reason === KERNEL_FAULT) return 'KERNEL_FAULT: an exception escaped inside the kernel';
  if (oc.kind !== 'APPROVED' && oc.kind !== 'ONLINE_REQUEST' && !oc.reason) return `${oc.kind} without a reason`;
  if (oc.kind === 'APPROVED' && oc.oda !== 'PASSED') return 'offline approval without ODA passed';
  if (oc.kind === 'APPROVED' || oc.kind === 'ONLINE_REQUEST') {
    const d = oc.onlineData;
    if (!d || !oc.sensitive || !oc.card) return `${oc.kind} without online data, card data or summary`;
    const m = new Map(Object.entries(d).map(([k, v]) => [k, fromHex(v)]));
    if (!m.get('9F26') || !m.get('9F27') || !m.get('9F36')) return `${oc.kind} without cryptogram, CID or ATC`;
    try { checkCardData(m); } catch (e) { return `${oc.kind} on data the kernel refuses: ${(e as Error).message}`; }
    const cid = m.get('9F27')![0]! & 0xc0;
    if (oc.kind === 'ONLINE_REQUEST' && cid !== 0x80) return `online request with CID ${cid.toString(16)}`;
  }
  return null;
}

/** Seeds in run order: the SM2 card once for every nine RSA taps. */
export function weighted(seeds: Seed[]): Seed[] {
  const rsa = seeds.filter((s) => !s.name.startsWith('unionpay-sm')), sm = seeds.filter((s) => s.name.startsWith('unionpay-sm'));
  const out: Seed[] = [];
  for (let i = 0; i < 9 * Math.max(1, sm.length); i++) out.push(rsa[i % rsa.length]!);
  out.push(...sm);
  return out;
}

