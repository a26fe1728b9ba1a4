// RuntimeFactory for the C host (tee-c/): the same TA bytes translated by wasm2c, run by a C
// host shaped like an OP-TEE TA, reached through CHostTransport (framed stdio). Used by
// c-host.test.ts (the whole conformance kit), the keystore suite and the bench.
import { mkdtempSync, writeFileSync, readdirSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeFactory, RuntimeUnderTest, TaImage } from '../../conformance/index.ts';
import type { UiProviders } from '../../tee/tui/provider.ts';
import { buildHost, taCacheDir, translateTa, toolchain, cRuntimeRequired, type HostVariant } from '../../tee-c/build.ts';
import { CHostTransport } from '../../tee-c/transport.ts';

let missing: string | null | undefined;

/** The one detection every C-host test uses (through c-host-gate.ts): null when the C runtime
 * can be built here (wasm2c with wasm-rt-impl.c, gcc, OpenSSL headers: tee-c/build.ts
 * toolchain()), else what is missing and how to install it. Under TRUSTTAP_REQUIRE_C_RUNTIME=1
 * (or CI=true) a missing part throws instead, so the C tests fail loudly rather than skip.
 * Decided once per test worker, so every file of a run sees the same answer. */
export function cHostMissing(): string | null {
  if (missing === undefined) {
    const t = toolchain();
    missing = t.ok ? null : `the C host needs ${t.missing.join(', ')}: run bash .ci/setup-c-runtime.sh`;
    if (missing && !cRuntimeRequired()) console.warn(`SKIPPING C host tests: ${missing}`);
  }
  if (missing && cRuntimeRequired()) throw new Error(`${missing} (TRUSTTAP_REQUIRE_C_RUNTIME is set: failing instead of skipping)`);
  return missing;
}

/** Whether the C runtime can be built here (cHostMissing() === null). */
export function cHostAvailable(): boolean {
  return cHostMissing() === null;
}

export interface CHostStartOptions {
  variant?: HostVariant;
  timeBudgetMs?: number;
  extraArgs?: string[];
  /** Trusted UI providers, reached through the host's secure display channel (tee-c/README.md). */
  ui?: UiProviders;
  /** Serve clients on this Unix socket instead of stdio (CHostTransport.connect). */
  listen?: string;
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
  return CHostTransport.start({ host, cacheDir: taCacheDir(), dataDir, tas: files, timeBudgetMs: o.timeBudgetMs, extraArgs: o.extraArgs, ui: o.ui, listen: o.listen });
}

/** The same host serving a Unix socket (`--listen`, issue 15): connect() gives one client each. */
export async function startCHostServer(tas: TaImage[], dataDir: string, socketPath: string, o: CHostStartOptions = {}): Promise<CHostTransport> {
  return startCHost(tas, dataDir, { ...o, listen: socketPath });
}

export async function startCHostFromBuild(buildDir: string, dataDir: string, o: CHostStartOptions & { keyPem?: string } = {}): Promise<CHostTransport> {
  const host = buildHost(o.variant ?? 'test');
  for (const f of readdirSync(buildDir)) if (f.endsWith('.wasm')) translateTa(readFileSync(join(buildDir, f)));
  return CHostTransport.start({ host, cacheDir: taCacheDir(), dataDir, buildDir, keyPem: o.keyPem ?? join(buildDir, 'keys', 'dev-signing-key.pub.pem'), timeBudgetMs: o.timeBudgetMs, extraArgs: o.extraArgs });
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
