// Builds the conformance kit's run-time assets (conformance/assets.ts lists them) into
// <build>/conformance/: its test TAs compiled from conformance/as/ with the same pinned asc and
// release options as the real TAs (reproducible: no paths, no timestamps), the Wycheproof
// files of its crypto category copied from the repository's copy of the published vectors, and
// kit.json indexing both by SHA-256. Run by `trusttap build` (so by `npm run build`), so the kit
// never compiles AssemblyScript at run time and the package can ship the folder.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ASC_VERSION, PROJECT_ROOT, compile, writeAtomic } from './build.ts';
import {
  KIT_INDEX_FILE, KIT_TAS, KIT_WYCHEPROOF_FILES, KIT_WYCHEPROOF_NOTICES, KIT_WYCHEPROOF_SUBDIR, sha256Hex,
  type KitIndex, type KitTaName,
} from '../conformance/assets.ts';

/** Where the kit's Wycheproof files are copied from: the repository's copy of the published
 * vectors (test/vectors/published.ts names the same folder for the tests; build/ may not import
 * test/, so kit-self.test.ts holds the two equal). */
export const WYCHEPROOF_SOURCE_DIR = join(PROJECT_ROOT, 'test', 'vectors', 'published', 'wycheproof');

export interface KitBuildOptions {
  root?: string;
  /** Default <root>/build/conformance. */
  outDir?: string;
  wycheproofDir?: string;
  cache?: boolean;
  log?: (line: string) => void;
}

/** asc arguments of a kit TA: the project's release target, the kit's memory cap. */
export function kitAscArgs(name: KitTaName): string[] {
  const t = KIT_TAS[name];
  return [t.entry, '--config', 'asconfig.json', '--target', 'release', '--maximumMemory', String(t.maximumMemoryPages)];
}

export async function buildConformanceKit(opts: KitBuildOptions = {}): Promise<KitIndex> {
  const root = resolve(opts.root ?? PROJECT_ROOT);
  const outDir = resolve(opts.outDir ?? join(root, 'build', 'conformance'));
  const source = opts.wycheproofDir ?? WYCHEPROOF_SOURCE_DIR;
  const cacheDir = opts.cache === false ? null : join(root, 'build', 'out', 'cache');
  const log = opts.log ?? (() => {});
  // The index goes last and only on success: a failed build must not leave a kit.json that
  // vouches for old files.
  rmSync(join(outDir, KIT_INDEX_FILE), { force: true });
  mkdirSync(join(outDir, KIT_WYCHEPROOF_SUBDIR), { recursive: true });
  const tas = {} as KitIndex['tas'];
  for (const name of Object.keys(KIT_TAS).sort() as KitTaName[]) {
    const args = kitAscArgs(name);
    const { bytes, cached } = await compile(root, args, cacheDir);
    const file = `${name}.wasm`;
    writeAtomic(join(outDir, file), bytes);
    tas[name] = { file, sha256: sha256Hex(bytes), size: bytes.length, asc_args: args };
    log(`conformance/${file.padEnd(13)} ${String(bytes.length).padStart(7)} B  sha256 ${tas[name].sha256}${cached ? '  (cached)' : ''}`);
  }
  const wycheproof: KitIndex['wycheproof'] = [];
  for (const f of [...KIT_WYCHEPROOF_FILES, ...KIT_WYCHEPROOF_NOTICES]) {
    const from = join(source, f);
    if (!existsSync(from)) throw new Error(`conformance kit: Wycheproof file ${from} is missing`);
    const file = `${KIT_WYCHEPROOF_SUBDIR}/${f}`;
    // written, not copied: a copy would keep the source's mode (read-only there) and fail next time
    const bytes = readFileSync(from);
    writeAtomic(join(outDir, file), bytes);
    wycheproof.push({ file, sha256: sha256Hex(bytes), size: bytes.length });
  }
  const index: KitIndex = { version: 1, compiler: `assemblyscript ${ASC_VERSION}`, tas, wycheproof };
  writeAtomic(join(outDir, KIT_INDEX_FILE), JSON.stringify(index, null, 2) + '\n');
  log(`conformance/${KIT_INDEX_FILE}: ${Object.keys(tas).length} test TAs, ${wycheproof.length} Wycheproof files`);
  return index;
}
