// The C host's libFuzzer targets (tee-c/fuzz/: wasm reader, protobuf reader, JSON + manifest
// reader, client frame parser) build and run clean for a short budget from their seed corpora.
// The fixed-budget runs are `npm run fuzz:c-host` (figures in docs/reliability.md); this keeps the
// targets from rotting. Needs clang-14 with libFuzzer (bash .ci/setup-c-runtime.sh): skipped with
// the reason without it, a failure under TRUSTTAP_REQUIRE_C_RUNTIME=1 (CI).
import { describe, test, expect } from 'vitest';
import { C_HOST_FUZZ_TARGETS, fuzzTarget, fuzzToolchainMissing } from '../../tee-c/fuzz/run.ts';
import { cRuntimeRequired } from '../../tee-c/build.ts';
import { onCHost } from './c-host-gate.ts';

const RUNS = 2000;

await onCHost('C host libFuzzer targets', () => {
  const missing = fuzzToolchainMissing();
  if (missing && cRuntimeRequired()) throw new Error(`the C host fuzz targets need ${missing} (TRUSTTAP_REQUIRE_C_RUNTIME is set: failing instead of skipping)`);
  if (missing) { test.skip(`C host libFuzzer targets (skipped: they need ${missing}: run bash .ci/setup-c-runtime.sh)`, () => {}); return; }
  describe('C host libFuzzer targets', () => {
    for (const target of C_HOST_FUZZ_TARGETS) {
      test(`${target}: ${RUNS} inputs from the seed corpus, no crash, no hang`, async () => {
        const r = await fuzzTarget(target, { runs: RUNS });
        expect(r).toMatchObject({ target: `c-host/${target}`, inputs: RUNS, crashes: 0, hangs: 0, traps: 0 });
      }, 300_000);
    }
  });
});
