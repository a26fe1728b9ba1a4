// libFuzzer targets of the C host (issue 17 §8/§9): the wasm reader, the protobuf reader, the
// JSON + manifest reader and the client frame parser, each built with
// clang -fsanitize=fuzzer,address,undefined (Debian clang-14 + libclang-rt-14-dev) and run for a
// fixed budget from a seed corpus of the repository's real TAs, manifests and requests.
//
//   npm run fuzz:c-host -- [--runs N | --seconds S]     (default --runs 100000 per target)
//
// runCHostFuzz is what `npm run fuzz -- --target c-host` calls. Per target the closing line is
// `N inputs, C crashes, H hangs, T traps`: a crash is any sanitizer report or signal (libFuzzer
// stops at the first, keeping the input under build/out/c-host/fuzz-*/artifacts/), a hang is an
// input over the per-input timeout (10 s), and traps are TA traps — always 0 here, since these
// readers run no TA code (the TA targets of `npm run fuzz` count those).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { OUT, ROOT, taCacheDir, translateTa } from '../build.ts';

export interface CHostFuzzOptions {
  /** Inputs per target (libFuzzer -runs). */
  runs?: number;
  /** Seconds per target (libFuzzer -max_total_time); with runs, whichever comes first. */
  seconds?: number;
  /** Progress lines (the closing line of each target is always given here too). */
  log?: (line: string) => void;
}

export interface CHostFuzzResult {
  target: string; inputs: number; crashes: number; hangs: number; traps: number;
  /** libFuzzer's average executions per second (its final stats). */
  perSecond: number;
  /** Inputs that crashed or hung, kept to reproduce (`<binary> <file>`). */
  artifacts: string[];
}

export const C_HOST_FUZZ_TARGETS = ['wasm', 'pb', 'json', 'frame'] as const;
export type CHostFuzzTarget = (typeof C_HOST_FUZZ_TARGETS)[number];

const FUZZ_DIR = join(ROOT, 'tee-c', 'fuzz');
const SRC = join(ROOT, 'tee-c', 'src');
const WASM_RT_DIR = '/usr/share/wabt/wasm2c';
const CLANG = 'clang-14';
// -rdynamic: the frame target dlopens translated TAs, which resolve the host's functions in it
const CFLAGS = ['-g', '-O1', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=all', '-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0', '-rdynamic', '-w'];
const HANG_SECONDS = 10;

/** What is missing to build the targets (clang-14 and its libFuzzer runtime), or null. */
export function fuzzToolchainMissing(): string | null {
  const onPath = (cmd: string) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));
  if (!onPath(CLANG)) return 'clang-14 (Debian package clang-14)';
  const rt = execFileSync(CLANG, ['-print-file-name=libclang_rt.fuzzer-x86_64.a'], { encoding: 'utf8' }).trim();
  const rtDir = execFileSync(CLANG, ['-print-resource-dir'], { encoding: 'utf8' }).trim();
  if (!existsSync(rt) && !existsSync(join(rtDir, 'lib', 'linux', 'libclang_rt.fuzzer-x86_64.a'))) return 'the libFuzzer runtime (Debian package libclang-rt-14-dev)';
  if (!existsSync(join(WASM_RT_DIR, 'wasm-rt-impl.c'))) return 'wasm-rt-impl.c (Debian package wabt)';
  return null;
}

/** Builds one target (cached by its sources and flags); returns the binary's path. */
export function buildFuzzTarget(target: CHostFuzzTarget): string {
  const host = readdirSync(SRC).filter((f) => f.endsWith('.c') && f !== 'main.c').sort();
  const inputs = [...readdirSync(SRC).sort().map((f) => readFileSync(join(SRC, f))), readFileSync(join(FUZZ_DIR, 'harness.h')), readFileSync(join(FUZZ_DIR, `fuzz_${target}.c`)), Buffer.from(CFLAGS.join(' '))];
  const key = createHash('sha256').update(Buffer.concat(inputs)).digest('hex').slice(0, 16);
  const dir = join(OUT, `fuzz-${target}-${key}`);
  const bin = join(dir, `fuzz-${target}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  execFileSync(CLANG, [...CFLAGS, `-I${SRC}`, `-I${WASM_RT_DIR}`, join(FUZZ_DIR, `fuzz_${target}.c`), ...host.map((f) => join(SRC, f)),
    join(WASM_RT_DIR, 'wasm-rt-impl.c'), '-o', `${bin}.tmp`, '-lcrypto', '-ldl', '-lm'], { stdio: ['ignore', 'ignore', 'pipe'] });
  execFileSync('mv', [`${bin}.tmp`, bin]);
  return bin;
}

/** The conformance kit's probe TA (conformance/kit.ts), loaded twice into the frame target. */
const PROBE = { name: 'probe', uuid: '0c0fe7a0-0000-4000-8000-00000000c0de' };
const PROBE_2 = { name: 'probe2', uuid: '0c0fe7a0-0000-4000-8000-00000000c0d2' };
const PROBE2 = Buffer.from(PROBE_2.uuid.replace(/-/g, ''), 'hex');

/** TT_FUZZ_TAS / TT_FUZZ_CACHE for the frame target: the probe TA, translated as tt-host needs it. */
function frameTargetEnv(work: string): Record<string, string> {
  const wasm = readFileSync(join(ROOT, 'build', 'conformance', 'probe.wasm'));
  if (!translateTa(wasm)) throw new Error('wasm2c refused the conformance probe TA');
  const file = join(work, 'probe.wasm');
  writeFileSync(file, wasm);
  return { TT_FUZZ_TAS: [PROBE, PROBE_2].map((t) => `${t.name}:${t.uuid}:1.0.0:${file}`).join(';'), TT_FUZZ_CACHE: taCacheDir() };
}

const frame = (b: Uint8Array, ui = false) => { const h = Buffer.alloc(4); h.writeUInt32BE((b.length | (ui ? 0x8000_0000 : 0)) >>> 0); return Buffer.concat([h, b]); };

/** Client requests as the REE sends them: opening each release TA by name and UUID, an invoke with
 * a real command payload, close, cancel. */
function requests(): Uint8Array[] {
  const v1 = trusttap.tee.v1;
  const manifest = JSON.parse(readFileSync(join(ROOT, 'build', 'manifest.json'), 'utf8')) as { tas: { name: string; uuid: string }[] };
  const out: Uint8Array[] = [];
  for (const [i, t] of manifest.tas.entries()) {
    out.push(v1.ClientRequest.encode({ id: i + 1, openSession: { name: t.name } }).finish());
    out.push(v1.ClientRequest.encode({ id: i + 1, openSession: { uuid: Buffer.from(t.uuid.replace(/-/g, ''), 'hex'), login: 0 } }).finish());
  }
  out.push(v1.ClientRequest.encode({ id: 7, invoke: { session: 1, command: 1, payload: Buffer.from('0a0470696e67', 'hex'), responseCapacity: 4096 } }).finish());
  // the frame target's probe TAs: open, echo, a TA-to-TA call, a held session
  out.push(v1.ClientRequest.encode({ id: 10, openSession: { name: 'probe' } }).finish());
  out.push(v1.ClientRequest.encode({ id: 11, invoke: { session: 1, command: 9, payload: Uint8Array.of(1, 2, 3) } }).finish());
  out.push(v1.ClientRequest.encode({ id: 12, invoke: { session: 1, command: 7, payload: Buffer.concat([PROBE2, Buffer.from([8, 0, 0, 0])]) } }).finish());
  out.push(v1.ClientRequest.encode({ id: 13, invoke: { session: 1, command: 13, payload: Buffer.concat([PROBE2, Buffer.from([3, 0, 0, 0])]) } }).finish());
  out.push(v1.ClientRequest.encode({ id: 8, closeSession: { session: 1 } }).finish());
  out.push(v1.ClientRequest.encode({ id: 9, cancel: { session: 1 } }).finish());
  out.push(v1.TuiScreen.encode({ title: 'Enter PIN', mode: 1 }).finish());
  out.push(v1.ErrorDetail.encode({ message: 'no such key' }).finish());
  return out;
}

/** The seed corpus of a target, from the repository's build (npm run build) and requests. */
function seeds(target: CHostFuzzTarget): Uint8Array[] {
  const build = join(ROOT, 'build');
  const files = (dir: string, ext: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => readFileSync(join(dir, f))) : []);
  switch (target) {
    case 'wasm': return [...files(build, '.wasm'), ...files(join(build, 'conformance'), '.wasm')];
    case 'json': return [readFileSync(join(build, 'manifest.json')), ...files(join(build, 'conformance'), '.json')];
    case 'pb': return requests();
    case 'frame': {
      const r = requests().slice(0, -2);
      const ui = Buffer.from([16, 0, 0, 0, 1, 0, 0, 0, 3]);
      return [Buffer.concat(r.map((b) => frame(b))), ...r.map((b) => frame(b)), frame(ui, true), Buffer.concat([frame(r[0]), frame(ui, true), frame(r[1])])];
    }
  }
}

/** Runs one target for the budget; returns its counts. */
export async function fuzzTarget(target: CHostFuzzTarget, o: CHostFuzzOptions = {}): Promise<CHostFuzzResult> {
  const bin = buildFuzzTarget(target);
  const work = mkdtempSync(join(OUT, `fuzz-run-${target}-`));
  const corpus = join(work, 'corpus');
  const artifacts = join(work, 'artifacts');
  mkdirSync(corpus); mkdirSync(artifacts);
  for (const [i, s] of seeds(target).entries()) writeFileSync(join(corpus, `seed-${i}`), s);
  const runs = o.runs ?? (o.seconds ? undefined : 100_000);
  const args = [`-timeout=${HANG_SECONDS}`, '-rss_limit_mb=2048', '-max_len=262144', '-print_final_stats=1', `-artifact_prefix=${artifacts}/`];
  if (runs !== undefined) args.push(`-runs=${runs}`);
  if (o.seconds) args.push(`-max_total_time=${o.seconds}`);
  args.push(corpus);
  const stderr = await new Promise<string>((resolve, reject) => {
    const env = { ...process.env, ...(target === 'frame' ? frameTargetEnv(work) : {}) };
    const p = spawn('nice', ['-n', '10', bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err = (err + d.toString('utf8')).slice(-1 << 20); });
    p.on('error', reject);
    p.on('close', () => resolve(err));
  });
  const stat = (name: string) => Number(new RegExp(`stat::${name}:\\s+(\\d+)`).exec(stderr)?.[1] ?? NaN);
  const found = readdirSync(artifacts);
  const hangs = found.filter((f) => f.startsWith('timeout-')).length;
  const crashes = found.filter((f) => !f.startsWith('timeout-')).length;
  let inputs = stat('number_of_executed_units');
  if (Number.isNaN(inputs)) inputs = Number(/#(\d+)\s+(?:DONE|INITED|NEW|REDUCE|pulse)/g.exec(stderr)?.[1] ?? 0);
  if (Number.isNaN(stat('number_of_executed_units')) && !found.length) throw new Error(`fuzz target ${target} ended without its statistics: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const r: CHostFuzzResult = { target: `c-host/${target}`, inputs, crashes, hangs, traps: 0, perSecond: stat('average_exec_per_sec'), artifacts: found.map((f) => join(artifacts, f)) };
  if (!found.length) rmSync(work, { recursive: true, force: true }); /* kept only to reproduce a finding */
  if (o.log && !Number.isNaN(r.perSecond)) o.log(`${r.target}: ${r.perSecond} inputs/s`);
  o.log?.(`${r.target}: ${r.inputs} inputs, ${r.crashes} crashes, ${r.hangs} hangs, ${r.traps} traps`);
  return r;
}

/** Every C-host target in turn, each for the same budget. */
export async function runCHostFuzz(o: CHostFuzzOptions = {}): Promise<CHostFuzzResult[]> {
  const missing = fuzzToolchainMissing();
  if (missing) throw new Error(`the C host fuzz targets need ${missing}: run bash .ci/setup-c-runtime.sh`);
  const out: CHostFuzzResult[] = [];
  for (const t of C_HOST_FUZZ_TARGETS) out.push(await fuzzTarget(t, o));
  return out;
}

// `npm run fuzz:c-host -- [--runs N | --seconds S]`: every target, one closing line each.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' } }, strict: true });
  const num = (v: string | undefined, what: string) => {
    if (v === undefined) return undefined;
    if (!/^[1-9]\d*$/.test(v)) { console.error(`fuzz:c-host: --${what} takes a positive integer, not ${v}`); process.exit(2); }
    return Number(v);
  };
  const results = await runCHostFuzz({ runs: num(values.runs, 'runs'), seconds: num(values.seconds, 'seconds'), log: (l) => console.log(l) });
  for (const r of results) for (const a of r.artifacts) console.log(`  ${r.target}: reproduce with ${a}`);
  process.exitCode = results.some((r) => r.crashes || r.hangs) ? 1 : 0;
}
