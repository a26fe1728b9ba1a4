// Compiles an AssemblyScript entry file for tests (the TAs themselves are built by build/).
// asc applies ./asconfig.json implicitly, so an explicit --config pins test-only options.
import asc from 'assemblyscript/asc';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const cacheDir = join(root, 'build', 'out', 'test');

/** Compiles `entry` (repo-relative) and returns the Wasm bytes. Cached per source content. */
export async function compileAs(entry: string, extraArgs: string[] = []): Promise<Uint8Array> {
  mkdirSync(cacheDir, { recursive: true });
  const configPath = join(cacheDir, 'asconfig.test.json');
  if (!existsSync(configPath)) writeFileSync(configPath, JSON.stringify({ targets: { test: {} }, options: {} }));
  const args = [entry, '--config', configPath, '--target', 'test', '-O3', '--runtime', 'incremental', '--noAssert', '--maximumMemory', '256', ...extraArgs];
  const key = createHash('sha256').update(args.join('\0')).digest('hex').slice(0, 16);
  let out: Uint8Array | null = null;
  const stderr: string[] = [];
  const { error } = await asc.main([...args, '--outFile', `build/out/test/${key}.wasm`], {
    stdout: { write: () => true } as any,
    stderr: { write: (s: string) => { stderr.push(String(s)); return true; } } as any,
    writeFile: (name: string, contents: Uint8Array) => { if (name.endsWith('.wasm')) out = contents; },
  } as any);
  if (error || !out) throw new Error(`asc failed for ${entry}: ${error?.message ?? ''}\n${stderr.join('')}`);
  return out;
}

export { readFileSync };
