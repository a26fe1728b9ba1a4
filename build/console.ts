// The operators' console page (console/, issue 12 §1) bundled for the browser by esbuild into
// build/console/: app.js (Preact, htm, uPlot and the console's code, minified), app.css (the
// console's styles with uPlot's), index.html. The back end serves these files at /console
// (backend/console/routes.ts) and the npm package ships them (build/package.ts), so the console
// needs no CDN and works with no internet. Run by `trusttap build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, BUILD_DIR } from './paths.ts';

export const CONSOLE_SRC = join(PROJECT_ROOT, 'console');
export const CONSOLE_OUT = join(BUILD_DIR, 'console');

export async function buildConsole(opts: { outDir?: string; log?: (line: string) => void } = {}): Promise<{ files: string[] }> {
  const out = opts.outDir ?? CONSOLE_OUT;
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(CONSOLE_SRC, 'app.ts') }, bundle: true, platform: 'browser', format: 'esm', target: 'es2022',
    minify: true, legalComments: 'eof', outdir: out, absWorkingDir: PROJECT_ROOT, logLevel: 'error',
  });
  await build({
    entryPoints: { app: join(CONSOLE_SRC, 'app.css') }, bundle: true, minify: true, outdir: out, absWorkingDir: PROJECT_ROOT, logLevel: 'error',
  });
  copyFileSync(join(CONSOLE_SRC, 'index.html'), join(out, 'index.html'));
  const files = ['index.html', 'app.js', 'app.css'];
  opts.log?.(`console: ${files.join(', ')} in ${out}`);
  return { files };
}
