// The conformance kit against the second runtime: the C host (tee-c/). Same kit, same TA bytes.
import { conformanceSuite, buildConformanceSuite } from '../../conformance/index.ts';
import { vitestHarness } from './vitest-harness.ts';
import { cHostFactory } from './c-host.ts';
import { onCHost } from './c-host-gate.ts';
import { DEFAULT_BUILD_DIR } from '../../tee/index.ts';

await onCHost('conformance kit on the C host', () => {
  conformanceSuite(vitestHarness, cHostFactory());
  buildConformanceSuite(vitestHarness, cHostFactory(), DEFAULT_BUILD_DIR);
});
