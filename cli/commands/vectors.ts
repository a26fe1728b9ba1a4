import { basename } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCommand, readUserFile, UsageError, UserError, type CommandSpec } from '../args.ts';
import { runVectors, loadOps, runWycheproof, isWycheproof, type VectorFile } from '../../test/vectors/runner.ts';

export const spec: CommandSpec = {
  name: 'vectors', summary: 'run published test vectors through TrustTap code: vectors [--runtime node|c] FILE... (project format or Wycheproof)',
  synopsis: '[--runtime node|c] FILE.json [FILE.json ...]',
  positionals: { max: 10_000, help: [['FILE.json', 'a vector file in the project format or a Wycheproof file']] },
  options: [{ name: 'runtime', value: 'RUNTIME', choices: ['node', 'c'], help: 'the TEE runtime whose host crypto runs Wycheproof files', default: 'node' }],
  exitCodes: [[0, 'every vector passed'], [1, 'a vector failed or was skipped'], [2, 'usage error or an unreadable file']],
};
export const summary = spec.summary;

/** Host crypto of a runtime for Wycheproof files, started on first use. */
async function hostCrypto(runtime: string) {
  const { HostCrypto, cryptoProbeImage } = await import('../../conformance/wycheproof-host.ts');
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
  return { hc: new HostCrypto(await ctx.openSession('crypto-probe')), stop: async () => { await ctx.finalize(); await stop(); rmSync(dataDir, { recursive: true, force: true }); } };
}

export const run = defineCommand(spec, async ({ opts, positionals: files }) => {
  const runtime = opts.runtime ?? 'node';
  if (!files.length) throw new UsageError('which vector files? (trusttap vectors FILE.json ...)');
  const ops = await loadOps();
  let host: Awaited<ReturnType<typeof hostCrypto>> | null = null;
  let passed = 0, failed = 0, skipped = 0;
  try {
    for (const path of files) {
      let json: unknown;
      const text = (await readUserFile(path, 'vector file')).toString('utf8');
      try { json = JSON.parse(text); } catch (e) { throw new UserError(`${path} is not JSON: ${(e as Error).message}`, 2); }
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
});
