// `npm run build:package` (also `prepack`): the npm package's dist/ — compiled ESM JavaScript and
// .d.ts (tsconfig.build.json, mirroring the source tree) plus every file the compiled code reads
// at run time through `import.meta.url`, each at the place it has beside the sources:
//   dist/build/          the signed TAs, manifest.json, manifest.sig, sbom.cdx.json, the DEVELOPMENT public key
//                        (never the private key), build/conformance/ when the kit's TAs exist, and
//                        build/console/ (the operators' console page, served by the back end)
//   dist/backend/hsm/    hsm.wasm: the back end's HSM module, prebuilt (the package has no AS
//                        sources or compiler; backend/hsm/wasm.ts loads it there)
//   dist/proto/gen/ts/   the generated protobufjs module (JavaScript already) and its .d.ts
//   dist/<folder>/...    data files beside the code (sim/**.json, tee/host/ta-worker-boot.mjs, backend/store/checkpointer.mjs,
//                        conformance/** data) — any non-TypeScript file the compile's folders hold
// It ends by checking that every relative import of the compiled code resolves inside dist/.
// Needs `npm run build` first (the TAs are built and signed there, not here).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT, BUILD_DIR, DEV_PUBLIC_KEY_PATH } from './paths.ts';
import { parseManifest } from '../common/manifest.ts';
import { SBOM_FILE } from './sbom.ts';
import { hsmWasm } from '../backend/hsm/wasm.ts';

export const DIST = join(PROJECT_ROOT, 'dist');

export class PackageError extends Error {
  constructor(message: string) { super(message); this.name = 'PackageError'; }
}

/** Source folders whose data files ship beside their compiled code. */
const DATA_FOLDERS = ['sim', 'tee', 'ree', 'backend', 'conformance'];
const DATA_EXTENSIONS = ['.json', '.mjs', '.wasm', '.pem'];
/** Never shipped even if they match: AssemblyScript sources live in `as/` folders (and are .ts). */
const SKIP_DIRS = new Set(['as', 'node_modules']);

function copy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (!SKIP_DIRS.has(e.name)) walk(p, out); } else out.push(p);
  }
  return out;
}

/** The TypeScript source of each package.json "exports" subpath that names compiled code. */
export function exportEntries(): { subpath: string; source: string; present: boolean }[] {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { import?: string }> };
  const out: { subpath: string; source: string; present: boolean }[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const js = typeof target === 'string' ? target : target.import;
    if (!js?.startsWith('./dist/') || !js.endsWith('.js')) continue;
    const source = js.slice('./dist/'.length).replace(/\.js$/, '.ts');
    out.push({ subpath, source, present: existsSync(join(PROJECT_ROOT, source)) });
  }
  return out;
}

function compile(log: (line: string) => void): void {
  const entries = exportEntries();
  // An export reserved for a part not written yet (its source absent) is left out, and said so.
  for (const e of entries) if (!e.present) log(`build:package: ${e.subpath} -> ${e.source} does not exist yet; not compiled`);
  const tmp = join(PROJECT_ROOT, '.tmp');
  mkdirSync(tmp, { recursive: true });
  const config = join(tmp, 'tsconfig.package.json');
  const base = JSON.parse(readFileSync(join(PROJECT_ROOT, 'tsconfig.build.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { files: string[] };
  writeFileSync(config, JSON.stringify({
    extends: '../tsconfig.build.json',
    files: [...base.files, ...entries.filter((e) => e.present).map((e) => e.source)].map((f) => `../${f}`),
  }, null, 2));
  // typescript's package exports do not name its bin; the file sits beside its package.json.
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', config], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new PackageError(`tsc (tsconfig.build.json + the exports' entries) failed:\n${r.stdout}${r.stderr}`);
}

/** The built TAs exactly as the signed manifest names them, the signature and the public key. */
function copyBuild(): number {
  const manifestPath = join(BUILD_DIR, 'manifest.json');
  if (!existsSync(manifestPath) || !existsSync(join(BUILD_DIR, 'manifest.sig'))) {
    throw new PackageError('build/manifest.json or manifest.sig missing: run `npm run build` first');
  }
  const manifest = parseManifest(readFileSync(manifestPath));
  // The REE client bundle (build/client-bundle.ts) ships beside the TAs: its hash is in the manifest.
  const files = ['manifest.json', 'manifest.sig', SBOM_FILE, ...manifest.tas.map((t) => t.file), ...(manifest.client ? [manifest.client.file] : [])];
  for (const f of files) {
    if (!existsSync(join(BUILD_DIR, f))) throw new PackageError(`build/${f}, named by the manifest, is missing: run \`npm run build\``);
    copy(join(BUILD_DIR, f), join(DIST, 'build', f));
  }
  copy(DEV_PUBLIC_KEY_PATH, join(DIST, 'build', relative(BUILD_DIR, DEV_PUBLIC_KEY_PATH)));
  // The conformance kit's own test TAs, when the kit's build step made them.
  const kit = join(BUILD_DIR, 'conformance');
  for (const f of walk(kit)) copy(f, join(DIST, 'build', relative(BUILD_DIR, f)));
  // The operators' console page (build/console.ts), served by the back end from dist/build/console/.
  const consoleFiles = walk(join(BUILD_DIR, 'console'));
  if (!consoleFiles.some((f) => f.endsWith('app.js'))) throw new PackageError('build/console/app.js missing: run `npm run build` (it bundles the operators\' console)');
  for (const f of consoleFiles) copy(f, join(DIST, 'build', relative(BUILD_DIR, f)));
  return files.length + 1 + consoleFiles.length;
}

function copyData(): number {
  let n = 0;
  for (const folder of DATA_FOLDERS) {
    for (const f of walk(join(PROJECT_ROOT, folder))) {
      if (!DATA_EXTENSIONS.some((x) => f.endsWith(x))) continue;
      copy(f, join(DIST, relative(PROJECT_ROOT, f)));
      n++;
    }
  }
  // Generated protobufjs code is JavaScript with a hand-off .d.ts: tsc reads it, never emits it.
  for (const f of ['trusttap.js', 'trusttap.d.ts']) copy(join(PROJECT_ROOT, 'proto/gen/ts', f), join(DIST, 'proto/gen/ts', f));
  // better-sqlite3 ships no types; the back end's own declaration of the part it uses goes along,
  // referenced from the compiled store's .d.ts so the package's users resolve it too.
  copy(join(PROJECT_ROOT, 'backend/store/better-sqlite3.d.ts'), join(DIST, 'backend/store/better-sqlite3.d.ts'));
  const storeDts = join(DIST, 'backend/store/sqlite.d.ts');
  writeFileSync(storeDts, `/// <reference path="./better-sqlite3.d.ts" />\n${readFileSync(storeDts, 'utf8')}`);
  return n + 3;
}

const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every relative import of the compiled JavaScript and declarations resolves to a file in dist/. */
function checkImports(): string[] {
  const problems: string[] = [];
  for (const f of walk(DIST)) {
    if (!f.endsWith('.js') && !f.endsWith('.mjs') && !f.endsWith('.d.ts')) continue;
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(IMPORT_RE)) {
      let target = join(dirname(f), m[1]);
      // Declarations keep the sources' `.ts` specifiers; TypeScript maps them to the `.d.ts`.
      if (f.endsWith('.d.ts') && target.endsWith('.ts') && !target.endsWith('.d.ts')) target = target.replace(/\.ts$/, '.d.ts');
      if (!existsSync(target)) problems.push(`${relative(DIST, f)}: ${m[1]} does not exist in dist/`);
      else if (f.endsWith('.js') && m[1].endsWith('.ts')) problems.push(`${relative(DIST, f)}: ${m[1]} is a .ts import left in JavaScript`);
    }
  }
  return problems;
}

function sizeOf(dir: string): number {
  return walk(dir).reduce((n, f) => n + statSync(f).size, 0);
}

export async function buildPackage(log: (line: string) => void = (l) => console.error(l)): Promise<void> {
  rmSync(DIST, { recursive: true, force: true });
  compile(log);
  const built = copyBuild();
  const data = copyData();
  const hsm = await hsmWasm();
  mkdirSync(join(DIST, 'backend/hsm'), { recursive: true });
  writeFileSync(join(DIST, 'backend/hsm/hsm.wasm'), hsm);
  const problems = checkImports();
  if (problems.length) throw new PackageError(`compiled code imports what the package does not hold:\n  ${problems.join('\n  ')}`);
  log(`dist/: compiled, ${built} build file(s), ${data} data file(s), hsm.wasm ${hsm.length} B; ${(sizeOf(DIST) / 1024).toFixed(0)} KiB in all`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPackage().catch((e: Error) => {
    console.error(`build:package: ${e instanceof PackageError ? e.message : e.stack}`);
    process.exitCode = 1;
  });
}
