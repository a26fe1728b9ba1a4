// The conformance kit's entry point (`trusttap/conformance` in the package): give it a
// RuntimeFactory for your TEE's Wasm runtime and it tells you whether the runtime implements
// host ABI v1 and the TA life cycle as TrustTap's TAs need (docs/porting.md).
//
//   import { runConformance } from 'trusttap/conformance';
//   const r = await runConformance(myFactory);      // one line per case, then "N passed, N failed, N skipped"
//   process.exitCode = r.failed ? 1 : 0;
//
// The suites themselves are exported too, for running them under a test framework
// (test/conformance/*.test.ts runs them under vitest).
import { DEFAULT_BUILD_DIR } from '../tee/loader/from-build.ts';
import { KIT_ASSETS_DIR, readKitIndex } from './assets.ts';
import { conformanceSuite, buildConformanceSuite, type RuntimeFactory } from './kit.ts';
import { tuiConformanceSuite } from './kit-tui.ts';
import { createNodeHarness, type NodeRunOptions, type RunResult } from './node-runner.ts';

export {
  conformanceSuite, buildConformanceSuite, expectTeeError, rawRequest, probeImages, ConformanceError, OOB_CASES, PROBE_UUID, PROBE2_UUID,
  type RuntimeFactory, type RuntimeUnderTest, type TaImage,
} from './kit.ts';
export { cryptoConformanceSuite } from './kit-crypto.ts';
export { tuiConformanceSuite, tuiProbeImages, TUI_PROBE_UUID, type TuiRuntimeFactory } from './kit-tui.ts';
export { cryptoProbeImage, CRYPTO_PROBE_UUID } from './wycheproof-host.ts';
export { KIT_ASSETS_DIR, KIT_WYCHEPROOF_FILES, KitAssetError } from './assets.ts';
export { createNodeHarness, nodeExpect, type NodeRunOptions, type RunResult, type CaseResult, type CaseStatus } from './node-runner.ts';
export type { Harness, Expect, Expectation, Assertion } from './harness.ts';
export type { UiProviders } from '../tee/tui/provider.ts';

export interface ConformanceOptions extends NodeRunOptions {
  /** A signed build (manifest.json, manifest.sig, keys/dev-signing-key.pub.pem, the TAs) for the
   * build-loading category; default: the signed TAs shipped with TrustTap. null leaves the
   * category out (reported as skipped). */
  buildDir?: string | null;
  /** Where the kit's test TAs and Wycheproof files are; default: the ones shipped with it. */
  assetsDir?: string;
}

/** Runs every category of the kit against one runtime with plain node: runtime behaviour,
 * crypto (Wycheproof), the trusted UI (when the factory declares trustedUi) and signed-build
 * loading. Prints one line per case and closes with `N passed, N failed, N skipped`; throws
 * KitAssetError before running anything if the kit's own assets are missing or damaged. */
export async function runConformance(factory: RuntimeFactory, options: ConformanceOptions = {}): Promise<RunResult> {
  const assetsDir = options.assetsDir ?? KIT_ASSETS_DIR;
  readKitIndex(assetsDir);
  const { harness, run } = createNodeHarness();
  conformanceSuite(harness, factory, assetsDir);
  if (factory.trustedUi) tuiConformanceSuite(harness, factory, assetsDir);
  else harness.skip(`trusted UI: ${factory.name}`, 'the factory does not declare trustedUi (start(tas, dataDir, ui) showing entries on ui)');
  if (options.buildDir === null) harness.skip(`signed build loading: ${factory.name}`, 'buildDir: null');
  else buildConformanceSuite(harness, factory, options.buildDir ?? DEFAULT_BUILD_DIR);
  return run(options);
}
