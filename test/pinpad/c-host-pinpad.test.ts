// Issue 8: the PIN-entry suite (pinpad.test.ts) on the second runtime: the same keystore, attest
// and pinpad binaries on the C host (tee-c/), the scripted person behind its secure display
// channel, the key sets imported on the C host too and the REE and TEE clocks injected through the
// test build's clock files (c-host-fixtures.ts). The same test file, its fixture pointed at the C
// host through setPhoneRuntime; the tests that need worker isolation or the synchronous driver
// are skipped by the factory's capabilities.
import { setPhoneRuntime } from './fixture.ts';
import { onCHost } from '../conformance/c-host-gate.ts';
import { cPhoneRuntime } from '../conformance/c-host-fixtures.ts';

await onCHost('pinpad suite on the C host', async () => {
  setPhoneRuntime(cPhoneRuntime);
  await import('./pinpad.test.ts');
});
