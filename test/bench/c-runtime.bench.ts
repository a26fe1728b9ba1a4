// The second runtime (issue 8): the C host (tee-c/, wasm2c + OpenSSL) against the reference
// runtime on the same TA bytes. Round trips go through each runtime's client transport: the
// C host's is a pipe to another process (framed stdio), the reference runtime's is in-process
// (and, for a like-for-like figure, its worker isolation).
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeAsync, type Section } from './measure.ts';
import { TeeContext, ks } from '../../ree/tee-client/index.ts';
import { TeeRuntime, InProcessTeeDriver, loadTaImages, DEFAULT_BUILD_DIR } from '../../tee/index.ts';
import { probeImages } from '../../conformance/index.ts';
import { startCHost } from '../conformance/c-host.ts';
import { cBenchRuntime } from '../conformance/c-host-bench.ts';
import { startBench, setBenchRuntime, tr31Header, type Bench } from '../keystore/fixture.ts';
import { buildHost, translateTa, toolchain } from '../../tee-c/build.ts';
import { paylib, ascii } from '../as/paylib-host.ts';
import { dukptAesInitialKey } from '../paylib/ref.ts';

const ECHO = 9;

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function pinBlockUs(b: Bench): Promise<number> {
  const p = await paylib();
  const kek = await b.generateKnown('kek', { algorithm: ks.KeyAlgorithm.KEY_ALGORITHM_AES_256, usage: ks.KeyUsage.KEY_USAGE_K0_KEY_ENCRYPTION, modeOfUse: ks.ModeOfUse.MODE_OF_USE_B_ENCRYPT_DECRYPT, exportability: ks.Exportability.EXPORTABILITY_N_NON_EXPORTABLE });
  const ik = dukptAesInitialKey(new Uint8Array(16).fill(0x31), Uint8Array.from(Buffer.from('1234567890123456', 'hex')));
  const wrap = (h: string, key: Uint8Array) => Buffer.from(p.call('tr31Wrap', [0], [ascii(h), kek, key])[0]!).toString('latin1');
  await b.keystore.importKeyBlock('set', 'kek', wrap(tr31Header('D0000B1AX00N0000', [['IK', '1234567890123456']]), ik));
  const req = ks.DukptEncryptPinBlockRequest.encode({
    keyId: 'set', format: ks.PinBlockFormat.PIN_BLOCK_FORMAT_ISO_4,
    pinField: Uint8Array.from(Buffer.from('441234AAAAAAAAAA0123456789ABCDEF', 'hex')), panField: Uint8Array.from(Buffer.from('44321987654321000000000000000000', 'hex')),
  }).finish();
  const s = await b.ctx.openSession('probe-pinpad');
  const call = new Uint8Array(20 + req.length);
  call.set(Buffer.from('5b9e0e40263611e1ad9e0002a5d5c51b', 'hex'));
  new DataView(call.buffer).setUint32(16, ks.Command.COMMAND_DUKPT_ENCRYPT_PIN_BLOCK, true);
  call.set(req, 20);
  const us = await timeAsync(() => s.invoke(7, call), 60, 5);
  await s.close();
  return us;
}

export async function run(): Promise<Section> {
  const t = toolchain();
  if (!t.ok) return { title: 'C host runtime (tee-c)', figures: [], notes: [`skipped: ${t.missing.join(', ')} missing (bash .ci/setup-c-runtime.sh)`] };
  const figures: Section['figures'] = [];
  const probes = await probeImages();

  // Empty command round trip (probe ECHO of 0 bytes) through each runtime's transport.
  const ref = await TeeRuntime.start({ tas: probes, dataDir: mkdtempSync(join(tmpdir(), 'tt-bc-')) });
  const refCtx = await TeeContext.initialize(new InProcessTeeDriver(ref));
  const refS = await refCtx.openSession('probe');
  const empty = new Uint8Array(0);
  const refUs = await timeAsync(() => refS.invoke(ECHO, empty), 2000, 7);
  await refCtx.finalize(); ref.shutdown();
  const wrk = await TeeRuntime.start({ tas: probes, dataDir: mkdtempSync(join(tmpdir(), 'tt-bc-')), isolation: 'worker' });
  const wrkCtx = await TeeContext.initialize(new InProcessTeeDriver(wrk));
  const wrkS = await wrkCtx.openSession('probe');
  const wrkUs = await timeAsync(() => wrkS.invoke(ECHO, empty), 1000, 7);
  await wrkCtx.finalize(); wrk.shutdown();
  const c = await startCHost(probes, mkdtempSync(join(tmpdir(), 'tt-bc-')), { variant: 'release' });
  const cCtx = await TeeContext.initialize(c);
  const cS = await cCtx.openSession('probe');
  const cUs = await timeAsync(() => cS.invoke(ECHO, empty), 2000, 7);
  await cCtx.finalize(); await c.close();
  // The same over the host's Unix socket (issue 15): one client alone, then each of 4 clients
  // sending at once (the host serves them in turn, one thread).
  const sock = join(mkdtempSync(join(tmpdir(), 'tt-bcs-')), 'tt.sock');
  const server = await startCHost(probes, mkdtempSync(join(tmpdir(), 'tt-bc-')), { variant: 'release', listen: sock });
  const clients = await Promise.all(Array.from({ length: 4 }, async () => { const t = await server.connect(); const ctx = await TeeContext.initialize(t); return { t, ctx, s: await ctx.openSession('probe') }; }));
  const sockUs = await timeAsync(() => clients[0].s.invoke(ECHO, empty), 2000, 7);
  const sock4Us = await timeAsync(() => Promise.all(clients.map((k) => k.s.invoke(ECHO, empty))), 500, 7);
  for (const k of clients) { await k.ctx.finalize(); await k.t.close(); }
  await server.close();
  figures.push({ name: 'empty command round trip, C host (pipe to tt-host)', value: cUs, unit: 'µs' });
  figures.push({ name: 'empty command round trip, C host over its Unix socket, one client', value: sockUs, unit: 'µs' });
  figures.push({ name: 'empty command round trip, C host Unix socket, 4 clients at once (per round of 4)', value: sock4Us, unit: 'µs' });
  figures.push({ name: 'empty command round trip, reference runtime in-process', value: refUs, unit: 'µs' });
  figures.push({ name: 'empty command round trip, reference runtime worker isolation', value: wrkUs, unit: 'µs' });
  figures.push({ name: '  ratio C host / reference in-process', value: cUs / refUs, unit: '×' });
  figures.push({ name: '  ratio C host / reference worker', value: cUs / wrkUs, unit: '×' });

  // A DUKPT PIN-block operation: keystore DUKPT_ENCRYPT_PIN_BLOCK called from the pinpad identity.
  const nodeBench = await startBench(3);
  const nodePin = await pinBlockUs(nodeBench);
  await nodeBench.close();
  setBenchRuntime(cBenchRuntime);
  const cBench = await startBench(3);
  const cPin = await pinBlockUs(cBench);
  await cBench.close();
  setBenchRuntime(null);
  figures.push({ name: 'DUKPT PIN block (AES DUKPT, format 4, sealed state save), C host', value: 1e6 / cPin, unit: '/s' });
  figures.push({ name: 'same on the reference runtime in-process', value: 1e6 / nodePin, unit: '/s' });
  figures.push({ name: '  ratio C host / reference (throughput)', value: nodePin / cPin, unit: '×' });

  // Resident memory per loaded TA: one host, 1 vs 9 instances of the probe TA, each with a session.
  const rss = async (n: number) => {
    const tas = Array.from({ length: n }, (_, i) => ({ ...probes[0], name: `p${i}`, uuid: `0c0fe7a0-0000-4000-8000-${(0x100 + i).toString(16).padStart(12, '0')}` }));
    const h = await startCHost(tas, mkdtempSync(join(tmpdir(), 'tt-bc-')), { variant: 'release' });
    const ctx = await TeeContext.initialize(h);
    for (const ta of tas) await (await ctx.openSession(ta.name)).invoke(ECHO, Uint8Array.of(1));
    const kib = rssKiB(h.pid!);
    await ctx.finalize(); await h.close();
    return kib;
  };
  const r1 = await rss(1), r9 = await rss(9);
  figures.push({ name: 'C host RSS with 1 probe TA instance', value: r1 / 1024, unit: 'MiB' });
  figures.push({ name: 'C host RSS per further loaded TA instance (9 vs 1)', value: (r9 - r1) / 8 / 1024, unit: 'MiB' });

  // Sizes: the generated C of each release TA, its shared object, and the host binary.
  const { images } = loadTaImages({ buildDir: DEFAULT_BUILD_DIR });
  for (const im of images) {
    const tr = translateTa(im.wasm)!;
    figures.push({ name: `${im.name}: wasm ${im.wasm.length} B → generated C`, value: tr.cBytes / 1024, unit: 'KiB' });
    figures.push({ name: `${im.name}: compiled TA image (.so, -O2)`, value: tr.soBytes / 1024, unit: 'KiB' });
  }
  figures.push({ name: 'tt-host binary (release, dynamically linked to libcrypto)', value: statSync(buildHost('release')).size / 1024, unit: 'KiB' });
  return {
    title: 'C host runtime (tee-c: wasm2c + OpenSSL) vs reference runtime',
    figures,
    notes: [
      `wasm2c ${t.wasm2cVersion}; TAs compiled with explicit bounds checks (no guard pages)`,
      'the C host round trip includes a pipe (or its Unix socket) to another process each way; the in-process figure has none',
      'the PIN-block command saves DUKPT state in sealed storage (fsync) on both runtimes',
      'instances of one image share its .so; a further instance costs the linear memory it touches (calloc: untouched pages stay unmapped)',
    ],
  };
}
