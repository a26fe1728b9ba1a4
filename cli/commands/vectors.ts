import { readVectorFile, runVectors, loadOps } from '../../test/vectors/runner.ts';

export const summary = 'run published test vectors through TrustTap code: vectors FILE...';

export async function run(args: string[]): Promise<number> {
  if (!args.length) {
    console.error('usage: trusttap vectors FILE.json [FILE.json ...]');
    return 2;
  }
  const ops = await loadOps();
  let passed = 0, failed = 0, skipped = 0;
  for (const path of args) {
    const r = await runVectors(readVectorFile(path), ops);
    for (const f of r.failures) {
      console.log(`FAIL ${f.id} ${f.field}: expected ${JSON.stringify(f.expected)} got ${JSON.stringify(f.got)}`);
    }
    for (const op of r.skippedOps) console.log(`SKIP ${path}: operation '${op}' not implemented`);
    passed += r.passed; failed += r.failed; skipped += r.skipped;
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed || skipped ? 1 : 0;
}
