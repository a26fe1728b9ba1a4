// One TA cold start in this (fresh) process, for runtime.bench.ts, which spawns it ≥ 10 times.
// First the TEE boots (TeeRuntime.start with no TA: the HUK, the RPMB key, the power-on
// self-tests of its cryptography), as a phone's TEE boots with the phone; then the TA's cold
// start as a phone maker measures it when the REE first asks for the TA: verify the manifest
// signature, hash and check the binary (loadTaImages), install (module checks, anti-rollback
// floor read from RPMB, compile), instantiate, create and open a session, first call (PING).
// The runtime's own modules are imported before either clock starts: that is the process
// starting. Arguments: TA name, data directory, and optionally `phases`. Prints one JSON line of
// times in milliseconds: `boot`, the TA's phases and `total` (the TA cold start), `cpu` (the
// process's CPU time over the TA cold start, all threads: waiting for a busy core is not in it).
import { readFileSync } from 'node:fs';
import { loadTaImages, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/loader/from-build.ts';
import { TeeRuntime } from '../../tee/index.ts';

const ta = process.argv[2] ?? 'keystore';
const dataDir = process.argv[3]!;
const key = readFileSync(DEV_MANIFEST_PUBLIC_KEY);
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const b0 = performance.now();
const rt = await TeeRuntime.start({ tas: [], dataDir });
const boot = performance.now() - b0;
const c0 = cpuMs();
const t0 = performance.now();
const { images } = loadTaImages({ only: [ta], buildDir: DEFAULT_BUILD_DIR, trustedKeyPem: key });
const t1 = performance.now();
// With `phases`, compile once first to tell compile time apart (install then finds the module in
// V8's in-process cache of compiled modules); the headline runs leave it out.
if (process.argv[4] === 'phases') new WebAssembly.Module(images[0]!.wasm as Uint8Array<ArrayBuffer>);
const t2 = performance.now();
await rt.install(images);
const t3 = performance.now();
const o = rt.openSession({ name: ta });
const t4 = performance.now();
rt.invoke(o.session!, 0, new Uint8Array(0));
const t5 = performance.now();
const cpu = cpuMs() - c0;
rt.shutdown();
process.stdout.write(JSON.stringify({ boot, verify: t1 - t0, compile: t2 - t1, install: t3 - t2, open: t4 - t3, firstCall: t5 - t4, total: t5 - t0, cpu }) + '\n');
