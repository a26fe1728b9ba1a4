// RuntimeFactory for the C host (tee-c/): the same TA bytes translated by wasm2c, run by a C
// host shaped like an OP-TEE TA, reached through CHostTransport (framed stdio). Used by
// c-host.test.ts (the whole conformance kit), the keystore suite and the bench.
import { mkdtempSync, writeFileSync, readdirSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeFactory, RuntimeUnderTest, TaImage } from './kit.ts';
import type { UiProviders } from '../../tee/tui/provider.ts';
import { buildHost, taCacheDir, translateTa, toolchain, cRuntimeRequired, type HostVariant } from '../../tee-c/build.ts';
import { CHostTransport } from '../../tee-c/transport.ts';

/** Whether the C runtime can be built here; in CI (TRUSTTAP_REQUIRE_C_RUNTIME=1 or CI=true) a
 * missing toolchain throws instead, so the C tests fail loudly rather than skip. */
export function cHostAvailable(): boolean {
  const t = toolchain();
  if (t.ok) return true;
  const msg = `C host tests need ${t.missing.join(', ')}: run bash .ci/setup-c-runtime.sh`;
  if (cRuntimeRequired()) throw new Error(msg);
  console.warn(`SKIPPING C host tests: ${msg}`);
  return false;
}

export interface CHostStartOptions {
  variant?: HostVariant;
  timeBudgetMs?: number;
  extraArgs?: string[];
  /** Trusted UI providers, reached through the host's secure display channel (tee-c/README.md). */
  ui?: UiProviders;
}

/** Writes images to files, translates each (cached by SHA-256) and starts the host on them. */
export async function startCHost(tas: TaImage[], dataDir: string, o: CHostStartOptions = {}): Promise<CHostTransport> {
  const host = buildHost(o.variant ?? 'test');
  const dir = mkdtempSync(join(tmpdir(), 'tt-cimg-'));
  const files = tas.map((t, i) => {
    translateTa(t.wasm);
    const file = join(dir, `${i}-${t.name}.wasm`);
    writeFileSync(file, t.wasm);
    return { name: t.name, uuid: t.uuid, version: t.version, file };
  });
  return CHostTransport.start({ host, cacheDir: taCacheDir(), dataDir, tas: files, timeBudgetMs: o.timeBudgetMs, extraArgs: o.extraArgs, ui: o.ui });
}

export async function startCHostFromBuild(buildDir: string, dataDir: string, o: CHostStartOptions = {}): Promise<CHostTransport> {
  const host = buildHost(o.variant ?? 'test');
  for (const f of readdirSync(buildDir)) if (f.endsWith('.wasm')) translateTa(readFileSync(join(buildDir, f)));
  return CHostTransport.start({ host, cacheDir: taCacheDir(), dataDir, buildDir, keyPem: join(buildDir, 'keys', 'dev-signing-key.pub.pem'), timeBudgetMs: o.timeBudgetMs, extraArgs: o.extraArgs });
}

export function cHostFactory(o: CHostStartOptions = {}): RuntimeFactory {
  return {
    name: `C host (wasm2c + OpenSSL${o.variant && o.variant !== 'test' ? `, ${o.variant}` : ''})`,
    watchdog: true,
    async start(tas, dataDir): Promise<RuntimeUnderTest> {
      let t = await startCHost(tas, dataDir, { timeBudgetMs: 2000, ...o });
      return {
        transport: { exchange: (b) => t.exchange(b) },
        async restart() { await t.close(); t = await startCHost(tas, dataDir, { timeBudgetMs: 2000, ...o }); },
        async close() { await t.close(); },
      };
    },
    async startFromBuild(buildDir, dataDir) {
      const t = await startCHostFromBuild(buildDir, dataDir, o);
      return { transport: t, async restart() {}, async close() { await t.close(); } };
    },
    sealedObjectFiles(dataDir, taUuid) {
      const dir = join(dataDir, 'storage', taUuid.replace(/-/g, ''), 'objects');
      return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.blob')).map((f) => join(dir, f)) : [];
    },
  };
}
