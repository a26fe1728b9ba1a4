import { recordSession } from '../test/fuzz/record.ts';
import { TeeRuntime, InProcessTeeDriver, loadTaImages } from '../tee/index.ts';
import { TeeContext } from '../ree/tee-client/index.ts';
import { mulberry32, mutate, pick } from '../test/fuzz/mutate.ts';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const rec = await recordSession();
const dataDir = mkdtempSync(join(tmpdir(), 'prof-'));
cpSync(rec.deviceDir, dataDir, { recursive: true });
const rt = await TeeRuntime.start({ tas: loadTaImages().images, dataDir, bootState: 'verified' });
const ctx = await TeeContext.initialize(new InProcessTeeDriver(rt));
const r = mulberry32(1);
const times = new Map<string, [number, number]>();
for (const ta of ['keystore', 'pinpad', 'txsign', 'attest']) {
  const s = await ctx.openSession(ta);
  const seeds = rec.tee.filter((x) => x.ta === ta);
  for (let i = 0; i < 300; i++) {
    const sd = pick(r, seeds);
    const p = mutate(r, sd.payload);
    const t = performance.now();
    try { await s.invoke(sd.command, p); } catch {}
    const k = `${ta}/${sd.command}`;
    const v = times.get(k) ?? [0, 0];
    v[0]++; v[1] += performance.now() - t;
    times.set(k, v);
  }
}
for (const [k, [n, ms]] of [...times].sort((a, b) => b[1][1] - a[1][1])) console.log(k, n, (ms / n).toFixed(2), 'ms avg', ms.toFixed(0), 'ms total');
rt.shutdown(); rec.dispose();
