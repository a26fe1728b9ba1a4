// The keystore TA suite (test/keystore/keystore-ta.test.ts: KCVs checked against the recorded
// random draws, persistence across a restart, typed errors, a tampered blob) on the C host,
// through the suite's setKeystoreTaRuntime hook and the fixture's C starter (c-host-bench.ts).
import { test, expect } from 'vitest';
import { onCHost } from './c-host-gate.ts';
import { cBenchRuntime } from './c-host-bench.ts';

let started = 0;
await onCHost('keystore TA suite on the C host', async () => {
  const suite = await import('../keystore/keystore-ta.test.ts');
  // read in the suite's beforeAll, which runs after collection
  suite.setKeystoreTaRuntime(async (...a) => { started++; return cBenchRuntime(...a); });
  test('the suite above ran on the C host', () => { expect(started).toBe(1); });
});
