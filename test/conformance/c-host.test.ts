// The conformance kit against the second runtime: the C host (tee-c/). Same kit, same TA bytes.
import { conformanceSuite, buildConformanceSuite } from './kit.ts';
import { cHostAvailable, cHostFactory } from './c-host.ts';
import { DEFAULT_BUILD_DIR } from '../../tee/index.ts';

if (cHostAvailable()) {
  conformanceSuite(cHostFactory());
  buildConformanceSuite(cHostFactory(), DEFAULT_BUILD_DIR);
}
