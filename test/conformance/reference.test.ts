// Runs the conformance kit against the reference runtime, in both isolation modes.
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { conformanceSuite, buildConformanceSuite, type RuntimeFactory } from '../../conformance/index.ts';
import { vitestHarness } from './vitest-harness.ts';
import { TeeRuntime, InProcessTeeDriver, startRuntimeFromBuild, DEFAULT_BUILD_DIR, type Isolation } from '../../tee/index.ts';

function factory(isolation: Isolation): RuntimeFactory {
  return {
    name: `reference runtime (${isolation})`,
    watchdog: isolation === 'worker',
    async start(tas, dataDir) {
      let runtime = await TeeRuntime.start({ tas, dataDir, isolation, timeBudgetMs: 2000 });
      const transport = { exchange: (b: Uint8Array) => new InProcessTeeDriver(runtime).exchange(b) };
      return {
        transport,
        async restart() { runtime.shutdown(); runtime = await TeeRuntime.start({ tas, dataDir, isolation, timeBudgetMs: 2000 }); },
        async close() { runtime.shutdown(); },
      };
    },
    async startFromBuild(buildDir, dataDir) {
      const keyPem = join(buildDir, 'keys', 'dev-signing-key.pub.pem');
      const { readFileSync } = await import('node:fs');
      const runtime = await startRuntimeFromBuild({ buildDir, dataDir, isolation, trustedKeyPem: readFileSync(keyPem) });
      return { transport: new InProcessTeeDriver(runtime), async restart() {}, async close() { runtime.shutdown(); } };
    },
    sealedObjectFiles(dataDir, taUuid) {
      const dir = join(dataDir, 'storage', taUuid.replace(/-/g, ''), 'objects');
      return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.blob')).map((f) => join(dir, f)) : [];
    },
  };
}

for (const isolation of ['in-process', 'worker'] as const) {
  conformanceSuite(vitestHarness, factory(isolation));
}
buildConformanceSuite(vitestHarness, factory('in-process'), DEFAULT_BUILD_DIR);
