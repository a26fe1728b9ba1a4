// One TA cold start in this (fresh) process, for runtime.bench.ts, which spawns it ≥ 10 times:
// verify the manifest signature, hash and check the binary (loadTaImages), compile,
// instantiate, create and open a session (TeeRuntime.start + openSession), first call (PING). Arguments: TA name, data
// directory, and optionally `phases`.
// The runtime's own modules are imported before the clock starts: that is the process starting,
// not the TA. Prints one JSON line of phase times in milliseconds, and `cpu`: the process's CPU
// time over the whole start (all its threads), which waiting for a busy core does not inflate.
import { readFileSync } from 'node:fs';
import { loadTaImages, DEFAULT_BUILD_DIR, DEV_MANIFEST_PUBLIC_KEY } from '../../tee/loader/from-build.ts';
import { TeeRuntime } from '../../tee/index.ts';

const ta = process.argv[2] ?? 'keystore';
const dataDir = process.argv[3];
const key = readFileSync(DEV_MANIFEST_PUBLIC_KEY);
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const c0 = cpuMs();
const t0 = performance.now();
const { images } = loadTaImages({ only: [ta], buildDir: DEFAULT_BUILD_DIR, trustedKeyPem: key });
const t1 = performance.now();
// With `phases`, compile once first to tell compile time apart (the runtime's start then finds
// the module in V8's in-process cache of compiled modules); the headline runs leave it out.
if (process.argv[4] === 'phases') await WebAssembly.compile(images[0]!.wasm as Uint8Array<ArrayBuffer>);
const t2 = performance.now();
const rt = await TeeRuntime.start({ tas: images, dataDir });
const o = rt.openSession({ name: ta });
const t3 = performance.now();
rt.invoke(o.session!, 0, new Uint8Array(0));
const t4 = performance.now();
const cpu = cpuMs() - c0;
rt.shutdown();
process.stdout.write(JSON.stringify({ verify: t1 - t0, compile: t2 - t1, start: t3 - t2, firstCall: t4 - t3, total: t4 - t0, cpu }) + '\n');
