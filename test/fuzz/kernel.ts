// `npm run fuzz -- --target kernel` (issue 17 §8): corrupted card answers replayed into the EMV
// kernel's entry point — the generator of test/emv/kernel-fuzz.test.ts (recorded real taps of
// each simulated card, test/emv/kernel-seeds.ts; damage from test/emv/corrupt.ts), not a copy.
// An exception, or an outcome that breaks the kernel's contract (kernel-seeds.ts violation():
// KERNEL_FAULT, no reason, an approval or online request on refused data), is a crash.
import { runEntryPoint } from '../../ree/emv/entry-point.ts';
import { ReplayTransport } from '../../ree/nfc/replay.ts';
import { corruptCapture, prng } from '../emv/corrupt.ts';
import { config, random, recordSeeds, violation, weighted } from '../emv/kernel-seeds.ts';
import { newCounts, finding, deadline, Hang, type Counts } from './counts.ts';

const HANG_MS = 15_000;

export async function fuzzKernel(runs: number, seed: number, log: (s: string) => void = () => undefined, maxSeconds = Infinity): Promise<Counts> {
  const c = newCounts('kernel');
  const order = weighted(await recordSeeds());
  const r = prng(seed);
  const t0 = Date.now();
  for (let run = 0; run < runs; run++) {
    if (Date.now() - t0 > maxSeconds * 1000) break; // out of time: the counts say how far it got
    const s = order[run % order.length]!;
    const ex = corruptCapture(r, s.exchanges);
    c.inputs++;
    try {
      const o = await deadline(runEntryPoint(new ReplayTransport(ex), config, s.txn, { random }), HANG_MS);
      const why = violation(o);
      if (o.kind === 'APPROVED' || o.kind === 'ONLINE_REQUEST') c.accepted++;
      if (why) { c.crashes++; finding(c, `seed ${seed} run ${run} (${s.name}): ${why}`); }
    } catch (e) {
      if (e instanceof Hang) c.hangs++; else c.crashes++;
      finding(c, `seed ${seed} run ${run} (${s.name}): ${e instanceof Hang ? 'hang' : `threw ${(e as Error)?.message}`}`);
    }
    if ((run + 1) % 20_000 === 0) log(`  kernel: ${run + 1} inputs (${Math.round((run + 1) / ((Date.now() - t0) / 1000))}/s)`);
  }
  c.ms = Date.now() - t0;
  return c;
}
