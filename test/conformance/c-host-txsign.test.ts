// The txsign suites (test/txsign/txsign.test.ts and offline.test.ts, with the real attest and
// txsign TAs and the keystore) on the C host, through the same fixture hook as
// c-host-keystore.test.ts.
import { setBenchRuntime } from '../keystore/fixture.ts';
import { onCHost } from './c-host-gate.ts';
import { cBenchRuntime } from './c-host-bench.ts';

await onCHost('txsign suite on the C host', async () => {
  setBenchRuntime(cBenchRuntime);
  await import('../txsign/txsign.test.ts');
  await import('../txsign/offline.test.ts');
});
