// The txsign suite (test/txsign/txsign.test.ts, with the real attest and txsign TAs and the
// keystore) on the C host, through the same fixture hook as c-host-keystore.test.ts.
import { setBenchRuntime } from '../keystore/fixture.ts';
import { cHostAvailable } from './c-host.ts';
import { cBenchRuntime } from './c-host-bench.ts';

if (cHostAvailable()) {
  setBenchRuntime(cBenchRuntime);
  await import('../txsign/txsign.test.ts');
}
