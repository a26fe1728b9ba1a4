// `npm run fuzz -- --runs N [--target ta|http|kernel|c-host] [--seed S]` (issue 17 §8; not part
// of `npm test`, which runs the 10⁴-input smoke run in test/fuzz/smoke.test.ts). Records one real
// session (test/fuzz/record.ts), then grows inputs from it: N per TA on each runtime (ta), N per
// route family (http), N corrupted taps (kernel); c-host runs the C host's own harness
// (tee-c/fuzz/, runCHostFuzz). Each target ends with the line
// `N inputs, C crashes, H hangs, T traps`; exit 1 if any target found a crash, hang or unplanned trap.
import { pathToFileURL } from 'node:url';
import { cpus } from 'node:os';
import { defineCommand, UsageError, type CommandSpec } from '../../cli/args.ts';
import { recordSession } from './record.ts';
import { fuzzTas, taRuntimes, TAS, type TaRuntimeName } from './ta.ts';
import { fuzzHttp, FAMILIES, type Family } from './http.ts';
import { fuzzKernel } from './kernel.ts';
import { closingLine, rate, type Counts } from './counts.ts';

const TARGETS = ['ta', 'http', 'kernel', 'c-host'] as const;

const spec: CommandSpec = {
  name: 'fuzz',
  summary: 'Fuzz the TAs (both runtimes), the back end\'s HTTP API and the EMV kernel with inputs grown from a recorded real session.',
  options: [
    { name: 'runs', value: 'N', default: '10000', help: 'inputs per TA and runtime (ta), per route family (http), in all (kernel), for the C host (c-host)' },
    { name: 'target', value: 'TARGET', choices: TARGETS, default: 'all four', help: 'one target only' },
    { name: 'runtime', value: 'RUNTIME', choices: ['in-process', 'worker', 'c-host'], default: 'each one available', help: 'ta only: one runtime' },
    { name: 'ta', value: 'TA', choices: TAS, default: 'all four', help: 'ta only: one TA (run several processes, one TA each, to use more cores)' },
    { name: 'family', value: 'FAMILY', choices: FAMILIES, default: 'all four', help: 'http only: one route family' },
    { name: 'in-flight', value: 'N', default: '1', help: 'http only: requests in flight at once, each on its own keep-alive connection' },
    { name: 'seed', value: 'S', default: '0x1708', help: 'the PRNG seed (a finding replays from it)' },
    { name: 'seconds', value: 'S', help: 'c-host only: the time budget per reader (passed to runCHostFuzz)' },
    { name: 'max-seconds', value: 'S', help: 'stop a target early after S seconds (per runtime for ta, shared equally by the four TAs; per route\nfamily for http) and report the inputs it got through' },
  ],
  exitCodes: [[0, 'no crash, hang or unplanned trap'], [1, 'something was found (printed above its closing line)'], [2, 'usage error']],
  notes: 'A trap made on purpose (the conformance probe TA, every 1,000th TA input) is counted in T; it must answer\nTARGET_DEAD and be followed by a working session, else it counts as a crash.',
};

const positive = (v: string | undefined, name: string, dflt: number) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer (got '${v}')`);
  return n;
};

function report(c: Counts): boolean {
  const unplanned = c.traps - c.trapsOnPurpose;
  const traps = c.target.startsWith('ta:') ? `; ${c.trapsOnPurpose} traps on purpose (TARGET_DEAD, then a working session), ${unplanned} found; the canary PIN typed in ${c.pinsTyped ?? 0} entries (${c.pinBlocks ?? 0} PIN blocks), in no answer unless a finding says so` : '';
  console.log(`${c.target}: ${rate(c)} over ${(c.ms / 1000).toFixed(1)} s, ${c.accepted} accepted${traps}`);
  for (const f of c.findings) console.log(`  finding: ${f}`);
  console.log(closingLine(c));
  return c.crashes === 0 && c.hangs === 0 && unplanned === 0;
}

/** The C host's readers under libFuzzer (tee-c/fuzz/run.ts): each prints its own closing line. */
async function cHost(runs: number, seconds: number | undefined): Promise<boolean> {
  const { runCHostFuzz, fuzzToolchainMissing } = await import('../../tee-c/fuzz/run.ts');
  const missing = fuzzToolchainMissing();
  if (missing) { console.log(`c-host: skipped — the libFuzzer targets need ${missing} (bash .ci/setup-c-runtime.sh)`); return true; }
  const results = await runCHostFuzz({ runs, ...(seconds ? { seconds } : {}), log: (l) => console.log(l) });
  for (const r of results) for (const a of r.artifacts) console.log(`  ${r.target}: reproduce with ${a}`);
  return results.every((r) => !r.crashes && !r.hangs);
}

export const run = defineCommand(spec, async (p) => {
  const runs = positive(p.opts.runs, 'runs', 10_000);
  const seed = p.opts.seed ? positive(String(Number(p.opts.seed)), 'seed', 0x1708) : 0x1708;
  const seconds = p.opts.seconds ? positive(p.opts.seconds, 'seconds', 1) : undefined;
  const maxSeconds = p.opts['max-seconds'] ? positive(p.opts['max-seconds'], 'max-seconds', 1) : Infinity;
  const inFlight = positive(p.opts['in-flight'], 'in-flight', 1);
  const targets = p.opts.target ? [p.opts.target] : [...TARGETS];
  const log = (s: string) => console.log(s);
  console.log(`trusttap fuzz: ${runs} runs, seed ${seed}, targets ${targets.join(', ')}; ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}`);
  let ok = true;
  const needsRecording = targets.includes('ta') || targets.includes('http');
  const rec = needsRecording ? await recordSession() : null;
  if (rec) console.log(`recorded: ${rec.tee.length} TEE requests (${[...new Set(rec.tee.map((s) => s.ta))].join(', ')}), ${rec.http.length} HTTP requests`);
  try {
    if (targets.includes('ta')) {
      const only = p.opts.runtime as TaRuntimeName | undefined;
      if (only === 'c-host' && !taRuntimes().includes('c-host')) throw new UsageError('--runtime c-host: the C host cannot be built here (bash .ci/setup-c-runtime.sh)');
      const tas = p.opts.ta ? [p.opts.ta as typeof TAS[number]] : TAS;
      for (const rt of only ? [only] : taRuntimes()) for (const c of await fuzzTas(rec!, rt, runs, seed, log, maxSeconds, tas)) ok = report(c) && ok;
      if (!taRuntimes().includes('c-host')) console.log('ta on the C host: skipped (the C toolchain is missing: bash .ci/setup-c-runtime.sh)');
    }
    const families = p.opts.family ? [p.opts.family as Family] : FAMILIES;
    if (targets.includes('http')) for (const c of await fuzzHttp(rec!, runs, seed, log, maxSeconds, families, inFlight)) ok = report(c) && ok;
    if (targets.includes('kernel')) ok = report(await fuzzKernel(runs, seed, log, maxSeconds)) && ok;
    if (targets.includes('c-host')) ok = (await cHost(runs, seconds)) && ok;
  } finally {
    rec?.dispose();
  }
  return ok ? 0 : 1;
});

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
}
