// Runtime benchmarks (issues 2 and 15): empty-command round trip through the whole client
// path vs a direct Wasm call and vs the floor (protobufjs encode + copy + call + copy + decode
// with one async hop), in-process and worker; the same invoke at 1 MiB vs 64 MiB of TA memory;
// TA cold start, warm (in this process) and first in a fresh process (child processes); TA
// sizes, by component.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/index.ts';
import { TeeContext } from '../../ree/tee-client/index.ts';
import { HostContext } from '../../tee/abi/context.ts';
import { buildImports } from '../../tee/abi/table.ts';
import { createServices } from '../../tee/services.ts';
import { Huk } from '../../tee/huk.ts';
import { compileAs } from '../helpers/asc.ts';
import { trusttap } from '../../proto/gen/ts/trusttap.js';
import { timeSync, timeAsync, median, type Section } from './measure.ts';
import { COMPONENTS, namedReleaseBuilds, sizeByComponent } from './wasm-size.ts';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

export async function run(): Promise<Section> {
  const figures: Section['figures'] = [];
  const { images } = loadTaImages({ only: ['keystore'] });
  const ks = images[0];

  // Reference: a direct Wasm call of the same PING (copy in, ta_invoke, copy out), no runtime.
  const ctxH = new HostContext(createServices({ name: 'keystore', uuid: new Uint8Array(16) }, { storageDir: tmp('tt-b-'), huk: Huk.fromBytes(new Uint8Array(32)) }));
  const inst = new WebAssembly.Instance(await WebAssembly.compile(new Uint8Array(ks.wasm)), buildImports(ctxH));
  const ex = inst.exports as any;
  ctxH.memory = ex.memory;
  ex.ta_create();
  new Uint8Array(ex.memory.buffer, ex.io_in(), 0);
  ex.ta_open_session(1, 0, 0);
  const direct = timeSync(() => {
    ex.ta_invoke(1, 0, 0);
    return new Uint8Array(ex.memory.buffer, ex.io_out(), ex.ta_out_len()).slice();
  }, 20000);
  figures.push({ name: 'direct Wasm call (PING, copy in/out) — reference', value: direct, unit: 'µs' });
  // The floor: what any protobuf-over-Wasm call costs — protobufjs encode, copy in, the call,
  // copy out, protobufjs decode, and one async hop (the client API is async).
  const { ClientRequest, PingResponse } = trusttap.tee.v1;
  const floorReq = { invoke: { session: 1, command: 0, payload: new Uint8Array(0) } };
  const floor = await timeAsync(async () => {
    const req = ClientRequest.encode(floorReq).finish();
    new Uint8Array(ex.memory.buffer, ex.io_in(), req.length).set(req);
    ex.ta_invoke(1, 0, 0);
    const out = new Uint8Array(ex.memory.buffer, ex.io_out(), ex.ta_out_len()).slice();
    await Promise.resolve();
    return PingResponse.decode(out);
  }, 20000);
  figures.push({ name: 'floor: protobufjs encode + copy + call + copy + decode, one async hop', value: floor, unit: 'µs' });

  for (const isolation of ['in-process', 'worker'] as const) {
    const rt = await TeeRuntime.start({ tas: images, dataDir: tmp('tt-b-'), isolation });
    const ctx = await TeeContext.initialize(new InProcessTeeDriver(rt));
    const s = await ctx.openSession('keystore');
    const us = await timeAsync(() => s.invoke(0), isolation === 'worker' ? 3000 : 10000);
    const target = isolation === 'worker' ? 25 : 10;
    figures.push({ name: `client → protobuf → TA → back, ${isolation}`, value: us, unit: 'µs', target: `≤ ${target} µs`, ok: us <= target });
    figures.push({ name: `  ratio to direct call, ${isolation}`, value: us / direct, unit: '×' });
    if (isolation === 'in-process') figures.push({ name: 'ratio to floor, in-process', value: us / floor, unit: '×', target: '≤ 2×', ok: us / floor <= 2 });
    else figures.push({ name: 'worker round trip', value: us, unit: 'µs', target: '≤ 5 µs', ok: us <= 5 });
    await ctx.finalize();
    rt.shutdown();
  }

  // Memory size independence: the same probe TA with 1 MiB and with 64 MiB of linear memory.
  const small = await compileAs('conformance/as/probe-ta.ts', ['--initialMemory', '16', '--maximumMemory', '16']);
  const large = await compileAs('conformance/as/probe-ta.ts', ['--initialMemory', '1024', '--maximumMemory', '1024']);
  const per: Record<string, number> = {};
  for (const [label, wasm] of [['1 MiB', small], ['64 MiB', large]] as const) {
    const rt = await TeeRuntime.start({ tas: [{ name: 'probe', uuid: '0c0fe7a0-0000-4000-8000-00000000c0de', version: '1', wasm }], dataDir: tmp('tt-b-') });
    const ctx = await TeeContext.initialize(new InProcessTeeDriver(rt));
    const s = await ctx.openSession('probe');
    per[label] = await timeAsync(() => s.invoke(9, Uint8Array.of(1, 2, 3, 4)), 10000);
    figures.push({ name: `ECHO invoke with ${label} TA memory`, value: per[label], unit: 'µs' });
    await ctx.finalize();
    rt.shutdown();
  }
  const ratio = per['64 MiB'] / per['1 MiB'];
  figures.push({ name: 'ratio 64 MiB / 1 MiB', value: ratio, unit: '×', target: '≤ 1.1', ok: ratio <= 1.1 });

  // Cold start on a booted TEE: verify manifest signature + hash + install (checks, floor,
  // compile) + instantiate + create + first call.
  const cold: number[] = [];
  for (let i = 0; i < 15; i++) {
    const rt = await TeeRuntime.start({ tas: [], dataDir: tmp('tt-b-') });
    const t = performance.now();
    const { images: imgs } = loadTaImages({ only: ['keystore'], buildDir: DEFAULT_BUILD_DIR, trustedKeyPem: readFileSync(DEV_MANIFEST_PUBLIC_KEY) });
    await rt.install(imgs);
    const o = rt.openSession({ name: 'keystore' });
    rt.invoke(o.session!, 0, new Uint8Array(0));
    cold.push(performance.now() - t);
    rt.shutdown();
  }
  cold.sort((a, b) => a - b);
  const c = cold[cold.length >> 1];
  figures.push({ name: 'TA cold start, warm process (median of 15 in this process)', value: c, unit: 'ms' });

  // The first start in a fresh process: a child process per start (test/bench/cold-start-child.ts),
  // the runtime's modules imported before its clock starts.
  const child = (args: string[]) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', new URL('./cold-start-child.ts', import.meta.url).pathname, ...args], { encoding: 'utf8' }).trim().split('\n').pop()!);
  const fresh: Array<Record<string, number>> = [];
  const dir = tmp('tt-cold-');
  for (let i = 0; i < 11; i++) fresh.push(child(['keystore', dir]));
  const phases: Array<Record<string, number>> = [];
  for (let i = 0; i < 5; i++) phases.push(child(['keystore', dir, 'phases']));
  rmSync(dir, { recursive: true, force: true });
  const f = median(fresh.map((x) => x.total));
  figures.push({ name: 'cold start, first in a fresh process (median of 11 processes)', value: f, unit: 'ms', target: '≤ 5 ms', ok: f <= 5 });
  figures.push({ name: '  the same starts, CPU time of the process (median)', value: median(fresh.map((x) => x.cpu)), unit: 'ms' });
  figures.push({ name: '  before it: the TEE\'s boot in that process (HUK, RPMB, self-tests; median)', value: median(fresh.map((x) => x.boot)), unit: 'ms' });
  figures.push({ name: '  boot + first TA, fresh process (median)', value: median(fresh.map((x) => x.boot + x.total)), unit: 'ms' });
  const ph = (k: string) => median(phases.map((x) => x[k]));
  figures.push({ name: '  of which: manifest signature + hashes + module read (loadTaImages)', value: ph('verify'), unit: 'ms' });
  figures.push({ name: '  of which: V8 compile (new WebAssembly.Module, lazy tier)', value: ph('compile'), unit: 'ms' });
  figures.push({ name: '  of which: install (ABI checks, version floor, compile cached)', value: ph('install'), unit: 'ms' });
  figures.push({ name: '  of which: instantiate + create + open session', value: ph('open'), unit: 'ms' });
  figures.push({ name: '  of which: first call (PING)', value: ph('firstCall'), unit: 'ms' });

  const manifest = JSON.parse(readFileSync(join(DEFAULT_BUILD_DIR, 'manifest.json'), 'utf8'));
  const named = new Map((await namedReleaseBuilds()).map((b) => [b.name, b.bytes]));
  for (const t of manifest.tas.filter((x: any) => !x.debug)) {
    figures.push({ name: `size of ${t.name}.wasm`, value: t.size / 1024, unit: 'KiB', target: '≤ 48 KiB', ok: t.size <= 48 * 1024 });
    const parts = sizeByComponent(named.get(t.name)!);
    for (const c of COMPONENTS) figures.push({ name: `  ${t.name}: ${c}`, value: parts[c] / 1024, unit: 'KiB' });
  }
  return {
    title: 'TEE runtime',
    figures,
    notes: ['sizes by component: the release build again with a name section, function bodies summed by source file (codec = proto/, payment library = ta/lib/, TA logic = ta/<name>/, runtime and std = ~lib/ and glue) and the data section (the string literals as one UTF-8 block, build/text-transform.mjs; descriptor tables; ~lib strings); inlining moves code across components, so the split is an estimate'],
  };
}
