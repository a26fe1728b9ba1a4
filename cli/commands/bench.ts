// `trusttap bench`: runs every test/bench/*.bench.ts section and prints its figures, each with
// its target where one is set. Timing lives here, never in tests.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import type { Section } from '../../test/bench/measure.ts';
import { defineCommand, type CommandSpec } from '../args.ts';

export const spec: CommandSpec = {
  name: 'bench', summary: 'measure speed and size against targets (ratios to references in the same run)',
  synopsis: '[SECTION...]',
  positionals: { max: 100, help: [['SECTION', 'only the test/bench/*.bench.ts files whose name contains it (default all)']] },
  options: [],
  exitCodes: [[0, 'measured (a missed target is marked ✗ but does not fail)'], [2, 'usage error']],
};
export const summary = spec.summary;

const dir = fileURLToPath(new URL('../../test/bench/', import.meta.url));

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export const run = defineCommand(spec, async ({ positionals: only }) => {
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, Node ${process.version}`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts') && (!only.length || only.some((o) => f.includes(o)))).sort();
  for (const f of files) {
    const mod = (await import(`../../test/bench/${f}`)) as { run(): Promise<Section> };
    const s = await mod.run();
    console.log(`\n## ${s.title}`);
    for (const fig of s.figures) {
      const mark = fig.ok === undefined ? '' : fig.ok ? '  ✓' : '  ✗ (misses target)';
      console.log(`  ${fig.name.padEnd(72)} ${fmt(fig.value).padStart(9)} ${fig.unit.padEnd(4)}${fig.target ? `  target ${fig.target}` : ''}${mark}`);
    }
    for (const n of s.notes ?? []) console.log(`  note: ${n}`);
  }
  return 0;
});
