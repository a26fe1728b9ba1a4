// The kit's trusted-UI category (conformance/kit-tui.ts) on both runtimes: the reference runtime with an
// in-process provider, and the C host with the provider behind its secure display channel.
import { TeeRuntime, InProcessTeeDriver } from '../../tee/index.ts';
import { tuiConformanceSuite } from '../../conformance/index.ts';
import { vitestHarness } from './vitest-harness.ts';
import { startCHost } from './c-host.ts';
import { onCHost } from './c-host-gate.ts';

tuiConformanceSuite(vitestHarness, {
  name: 'reference runtime (in-process)',
  async start(tas, dataDir, ui) {
    const runtime = await TeeRuntime.start({ tas, dataDir, ui });
    return { transport: new InProcessTeeDriver(runtime), async restart() {}, async close() { runtime.shutdown(); } };
  },
});

await onCHost('trusted-UI category on the C host', () => {
  tuiConformanceSuite(vitestHarness, {
    name: 'C host (secure display channel)',
    async start(tas, dataDir, ui) {
      const t = await startCHost(tas, dataDir, { ui });
      return { transport: t, async restart() {}, async close() { await t.close(); } };
    },
  });
});
