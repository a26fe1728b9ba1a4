// The keystore suites (test/keystore/keystore-keys.test.ts: TR-31, usage matrix, TA-to-TA access,
// DUKPT, persistence and rollback, limits; keystore-sm4.test.ts: SM4 keys and download) on the C host: the same test file, its fixture pointed
// at the C host through setBenchRuntime (c-host-bench.ts).
import { setBenchRuntime } from '../keystore/fixture.ts';
import { cHostAvailable } from './c-host.ts';
import { cBenchRuntime } from './c-host-bench.ts';

if (cHostAvailable()) {
  setBenchRuntime(cBenchRuntime);
  await import('../keystore/keystore-keys.test.ts');
  await import('../keystore/keystore-sm4.test.ts');
}
