// The keystore suites (test/keystore/keystore-keys.test.ts: TR-31, usage matrix, TA-to-TA access,
// DUKPT, persistence and rollback, limits; keystore-sm4.test.ts: SM4 keys and download) on the C host: the same test file, its fixture pointed
// at the C host through setBenchRuntime (c-host-bench.ts).
import { setBenchRuntime } from '../keystore/fixture.ts';
import { onCHost } from './c-host-gate.ts';
import { cBenchRuntime } from './c-host-bench.ts';

await onCHost('keystore key and SM4 suites on the C host', async () => {
  setBenchRuntime(cBenchRuntime);
  await import('../keystore/keystore-keys.test.ts');
  await import('../keystore/keystore-sm4.test.ts');
});
