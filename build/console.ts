// The operators' console page (console/, issue 12 §1) bundled for the browser by esbuild into
// build/console/: app.js (Preact, htm, uPlot and the console's code, minified), app.css (the
// console's styles with uPlot's), index.html, and licenses.txt (the licence of every package the
// bundle holds, from esbuild's own list of its inputs: what ships must carry its notices). The back end serves these files at /console
// (backend/console/routes.ts) and the npm package ships them (build/package.ts), so the console
// needs no CDN and works with no internet. Run by `trusttap build`.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, BUILD_DIR } from './paths.ts';

export const CONSOLE_SRC = join(PROJECT_ROOT, 'console');
export const CONSOLE_OUT = join(BUILD_DIR, 'console');

export async function buildConsole(opts: { outDir?: string; log?: (line: string) => void } = {}): Promise<{ files: string[] }> {
  const out = opts.outDir ?? CONSOLE_OUT;
  mkdirSync(out, { recursive: true });
  const js = await build({
    entryPoints: { app: join(CONSOLE_SRC, 'app.ts') }, bundle: true, platform: 'browser', format: 'esm', target: 'es2022',
    minify: true, legalComments: 'eof', outdir: out, absWorkingDir: PROJECT_ROOT, logLevel: 'error', metafile: true,
  });
  const css = await build({
    entryPoints: { app: join(CONSOLE_SRC, 'app.css') }, bundle: true, minify: true, outdir: out, absWorkingDir: PROJECT_ROOT, logLevel: 'error', metafile: true,
  });
  copyFileSync(join(CONSOLE_SRC, 'index.html'), join(out, 'index.html'));
  const inputs = [...Object.keys(js.metafile.inputs), ...Object.keys(css.metafile.inputs)];
  checkDeclared(bundledPackages(inputs));
  writeFileSync(join(out, 'licenses.txt'), licences(inputs));
  const files = ['index.html', 'app.js', 'app.css', 'licenses.txt'];
  opts.log?.(`console: ${files.join(', ')} in ${out}`);
  return { files };
}

/** The packages among the bundle's inputs (node_modules/<name>/…), sorted by name. */
export function bundledPackages(inputs: string[]): string[] {
  const names = new Set<string>();
  for (const f of inputs) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

/** package.json's `trusttap.consoleBundle` names the devDependencies that ship inside the bundle,
 * so the SBOM (build/sbom.ts) counts them as shipped code; a bundle that holds another package, or
 * no longer one of them, fails the build instead of leaving the SBOM wrong. */
function checkDeclared(found: string[]): void {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { trusttap?: { consoleBundle?: string[] } };
  const declared = [...(pkg.trusttap?.consoleBundle ?? [])].sort();
  if (declared.join() !== found.join()) {
    throw new Error(`the console bundle holds [${found.join(', ')}] but package.json's trusttap.consoleBundle says [${declared.join(', ')}]: update the declaration (the SBOM reads it)`);
  }
}

/** The packages among the bundle's inputs, each with its version, licence id and licence text,
 * sorted by name. */
export function licences(inputs: string[]): string {
  const names = bundledPackages(inputs);
  const parts = ['Third-party software in the TrustTap operators\' console bundle (app.js, app.css):', ''];
  for (const name of names) {
    const dir = join(PROJECT_ROOT, 'node_modules', name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
    const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license'].map((f) => join(dir, f)).find((f) => existsSync(f));
    if (!file) throw new Error(`${name} is in the console bundle but ships no LICENSE file: its notice cannot be carried`);
    parts.push(`== ${name} ${pkg.version} (${pkg.license ?? 'see below'})`, '', readFileSync(file, 'utf8').trim(), '');
  }
  return `${parts.join('\n')}\n`;
}
