// Issue 8: the attest TA suite (attest-ta.test.ts) on the C host: the same release attest binary
// and stand-in peers, the device provisioned by the test OEM, measurements from the C host (boot
// state and manifest hash given on its command line), the OEM chain from its oem_certify. The same
// test file, its device fixture pointed at the C host through setDeviceRuntime (c-host-fixtures.ts);
// the measurements carry the C host's own runtime version (the factory's capability).
import { setDeviceRuntime } from './device.ts';
import { onCHost } from '../conformance/c-host-gate.ts';
import { cDeviceRuntime } from '../conformance/c-host-fixtures.ts';

await onCHost('attest TA suite on the C host', async () => {
  setDeviceRuntime(cDeviceRuntime);
  await import('./attest-ta.test.ts');
});
