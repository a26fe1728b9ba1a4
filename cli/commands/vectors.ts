import { basename } from 'node:path';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVectors, loadOps, runWycheproof, isWycheproof, type VectorFile } from '../../test/vectors/runner.ts';

export const summary = 'run published test vectors through TrustTap code: vectors [--runtime node|c] FILE... (project format or Wycheproof)';

/** Host crypto of a runtime for Wycheproof files, started on first use. */
async function hostCrypto(runtime: string) {
  const { HostCrypto, cryptoProbeImage } = await import('../../test/conformance/wycheproof-host.ts');
  const { TeeContext } = await import('../../ree/tee-client/index.ts');
  const tas = [await cryptoProbeImage()];
  const dataDir = mkdtempSync(join(tmpdir(), 'tt-vectors-'));
  let transport: { exchange(b: Uint8Array): Promise<Uint8Array> };
  let stop: () => Promise<void>;
  if (runtime === 'c') {
    const { startCHost } = await import('../../test/conformance/c-host.ts');
    const t = await startCHost(tas, dataDir, { variant: 'release' });
    transport = t;
    stop = () => t.close();
  } else {
    const { TeeRuntime, InProcessTeeDriver } = await import('../../tee/index.ts');
    const rt = await TeeRuntime.start({ tas, dataDir });
    transport = new InProcessTeeDriver(rt);
    stop = async () => rt.shutdown();
  }
  const ctx = await TeeContext.initialize(transport);
  return { hc: new HostCrypto(await ctx.openSession('crypto-probe')), stop: async () => { await ctx.finalize(); await stop(); } };
}

export async function run(args: string[]): Promise<number> {
  let runtime = 'node';
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runtime') runtime = args[++i] ?? '';
    else files.push(args[i]);
  }
  if (!files.length || !['node', 'c'].includes(runtime)) {
    console.error('usage: trusttap vectors [--runtime node|c] FILE.json [FILE.json ...]');
    return 2;
  }
  const ops = await loadOps();
  let host: Awaited<ReturnType<typeof hostCrypto>> | null = null;
  let passed = 0, failed = 0, skipped = 0;
  try {
    for (const path of files) {
      const json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      let r;
      if (isWycheproof(json)) {
        host ??= await hostCrypto(runtime);
        r = await runWycheproof(basename(path), json, host.hc);
      } else {
        r = await runVectors(json as VectorFile, ops);
      }
      for (const f of r.failures) {
        console.log(`FAIL ${f.id} ${f.field}: expected ${JSON.stringify(f.expected)} got ${JSON.stringify(f.got)}`);
      }
      for (const op of r.skippedOps) console.log(`SKIP ${path}: operation '${op}' not implemented`);
      passed += r.passed; failed += r.failed; skipped += r.skipped;
    }
  } finally {
    await host?.stop();
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed || skipped ? 1 : 0;
}
